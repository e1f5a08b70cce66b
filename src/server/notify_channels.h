// The two ways a notification leaves the server: a signed webhook POST (webhook.cpp) and an
// e-mail over SMTP (smtp_mail.cpp). One attempt each; the notifier decides about retries.
#pragma once
#include <atomic>
#include <string>

#include "net/http_client.h"
#include "server/config.h"

namespace arca::server {

struct DeliveryResult {
  bool ok = false;
  bool retry = false;   // a later attempt may succeed (timeouts, 5xx, 408, 429, refused connections)
  std::string message;  // why it failed, without secrets
};

// "sha256=" + hex HMAC-SHA-256 of `body` keyed with `secret` (the X-Arca-Signature header).
std::string webhook_signature(const std::string& secret, const std::string& body);
// scheme://host[:port] only: a webhook's path or query often is its secret (chat services).
std::string redacted_url(const std::string& url);

class WebhookSender {
 public:
  WebhookSender();
  // POSTs `body` (JSON) with X-Arca-Event, X-Arca-Delivery and, with a secret, X-Arca-Signature.
  DeliveryResult send(const WebhookConfig& hook, const std::string& event, const std::string& delivery_id,
                      const std::string& body, double timeout_s);

 private:
  std::atomic<long> timeout_ms_{30000};  // read by the client's per-request hook
  HttpClient client_;
};

// An RFC 5322 message (CRLF lines): Date, From, To, Subject, Message-ID, a UTF-8 text body.
std::string compose_mail(const EmailConfig& mail, const std::string& subject, const std::string& text, double time,
                         const std::string& host);
// One SMTP transaction through libcurl: smtp:// (STARTTLS required when mail.starttls), or
// smtps:// on port 465; AUTH with mail.username and the password read now.
DeliveryResult send_mail(const EmailConfig& mail, const std::string& message, double timeout_s);
// "Arca <arca@example.org>" -> "arca@example.org".
std::string mail_address(const std::string& s);

}  // namespace arca::server
