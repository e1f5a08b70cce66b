// Webhook delivery: one signed POST through arca_net's HttpClient (http or https).
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "server/notify_channels.h"
#include "util/bytes.h"

namespace arca::server {

std::string webhook_signature(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), secret.data(), int(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
            body.size(), mac, &len))
    return "";
  return "sha256=" + to_hex(ByteView(mac, len));
}

std::string redacted_url(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return "(a malformed URL)";
  auto start = scheme + 3;
  auto end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  auto at = authority.rfind('@');  // user:password@host
  if (at != std::string::npos) authority = authority.substr(at + 1);
  return url.substr(0, start) + authority;
}

WebhookSender::WebhookSender()
    : client_([this] {
        HttpConfig c;
        c.max_connections = 1;  // one delivery thread
        c.connect_timeout_s = 10;
        c.stall_timeout_s = 30;
        c.setup_request = [this](void* h) {
          CURL* curl = static_cast<CURL*>(h);
          curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms_.load());
          curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms_.load(), 10000L));
          // A webhook URL is http(s) only, and a redirect is not followed (the body is signed for it).
          curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        };
        return c;
      }()) {}

DeliveryResult WebhookSender::send(const WebhookConfig& hook, const std::string& event, const std::string& delivery_id,
                                   const std::string& body, double timeout_s) {
  timeout_ms_ = std::max(1L, long(timeout_s * 1000));
  HttpRequest req;
  req.method = "POST";
  req.url = hook.url;
  req.headers = {"Content-Type: application/json", "User-Agent: arca-notifier", "X-Arca-Event: " + event,
                 "X-Arca-Delivery: " + delivery_id, "Expect:"};  // no 100-continue round trip for a small body
  if (!hook.secret.empty()) req.headers.push_back("X-Arca-Signature: " + webhook_signature(hook.secret.value(), body));
  req.body = ByteView(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  req.max_bytes = 64 * 1024;  // the answer is not used; a receiver cannot make us hold much
  HttpResponse resp = client_.perform(req);
  DeliveryResult r;
  if (resp.status == 0) {
    r.retry = HttpClient::transient(resp.transport_error);
    r.message = "no answer: " + resp.transport_message;
  } else if (resp.status >= 200 && resp.status < 300) {
    r.ok = true;
  } else {
    // 408 and 429 say "later"; 5xx may be a restarting receiver; any other 4xx will not change.
    r.retry = resp.status >= 500 || resp.status == 408 || resp.status == 429;
    r.message = "HTTP " + std::to_string(resp.status);
  }
  return r;
}

}  // namespace arca::server
