// E-mail delivery: an RFC 5322 message sent in one SMTP transaction through libcurl.
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <memory>

#include "crypto/random.h"
#include "net/http_client.h"
#include "server/notify_channels.h"
#include "util/bytes.h"

namespace arca::server {
namespace {

// A header value on one line: a CR or LF in a plan name or reason cannot add headers.
std::string one_line(const std::string& s) {
  std::string r = s;
  std::replace_if(
      r.begin(), r.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return r;
}

std::string base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = unsigned(uint8_t(in[i])) << 16 | unsigned(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], k[v & 63]};
  }
  if (i + 1 == in.size()) {
    unsigned v = unsigned(uint8_t(in[i])) << 16;
    out += {k[v >> 18], k[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    unsigned v = unsigned(uint8_t(in[i])) << 16 | unsigned(uint8_t(in[i + 1])) << 8;
    out += {k[v >> 18], k[(v >> 12) & 63], k[(v >> 6) & 63], '='};
  }
  return out;
}

// Headers are ASCII (RFC 5322); a subject with other bytes is an RFC 2047 encoded word.
std::string header_text(const std::string& s) {
  std::string v = one_line(s);
  bool ascii = std::all_of(v.begin(), v.end(), [](char c) { return uint8_t(c) < 0x80; });
  return ascii ? v : "=?UTF-8?B?" + base64(v) + "?=";
}

// "Tue, 03 Mar 2026 02:00:05 +0000", with English names whatever the locale.
std::string rfc5322_date(double t) {
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto whole = std::time_t(t);
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

// A domain for Message-ID: the host name if it is a plain one.
std::string id_domain(const std::string& host) {
  bool plain = !host.empty() && std::all_of(host.begin(), host.end(),
                                            [](char c) { return std::isalnum(uint8_t(c)) || c == '.' || c == '-'; });
  return plain ? host : "arca.invalid";
}

// SMTP lines end in CRLF and stay under 1000 bytes (RFC 5321): long reasons are folded.
std::string crlf_body(const std::string& text) {
  constexpr size_t kMaxLine = 900;
  std::string out;
  size_t col = 0;
  for (char c : text) {
    if (c == '\r') continue;
    if (c == '\n') {
      out += "\r\n";
      col = 0;
      continue;
    }
    if (col == kMaxLine) {
      out += "\r\n";
      col = 0;
    }
    out += c;
    ++col;
  }
  if (col != 0) out += "\r\n";
  return out;
}

struct Upload {
  const std::string* data;
  size_t sent = 0;
};

size_t read_message(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t k = std::min(size * n, u->data->size() - u->sent);
  std::memcpy(buf, u->data->data() + u->sent, k);
  u->sent += k;
  return k;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::string mail_address(const std::string& s) {
  auto lt = s.find('<'), gt = s.rfind('>');
  std::string a = lt != std::string::npos && gt != std::string::npos && gt > lt ? s.substr(lt + 1, gt - lt - 1) : s;
  auto b = a.find_first_not_of(" \t"), e = a.find_last_not_of(" \t");
  return b == std::string::npos ? "" : one_line(a.substr(b, e - b + 1));
}

namespace {

// "<ops@example.com>" for the envelope (built by appending: GCC 12 warns falsely on "<" + s).
std::string angle_address(const std::string& s) {
  std::string out(1, '<');
  out += mail_address(s);
  out += '>';
  return out;
}

}  // namespace

std::string compose_mail(const EmailConfig& mail, const std::string& subject, const std::string& text, double time,
                         const std::string& host) {
  Bytes rnd(12);
  random_bytes(rnd);
  std::string to;
  for (const auto& r : mail.to) to += (to.empty() ? "" : ", ") + one_line(r);
  std::string m;
  m += "Date: " + rfc5322_date(time) + "\r\n";
  m += "From: " + one_line(mail.from) + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: " + header_text(subject) + "\r\n";
  m += "Message-ID: <" + to_hex(rnd) + "." + std::to_string(int64_t(time)) + "@" + id_domain(host) + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "Auto-Submitted: auto-generated\r\n";  // RFC 3834: no vacation replies to a machine
  m += "\r\n";
  m += crlf_body(text);
  return m;
}

DeliveryResult send_mail(const EmailConfig& mail, const std::string& message, double timeout_s) {
  DeliveryResult r;
  std::unique_ptr<CURL, CurlDeleter> c(curl_easy_init());
  if (!c) {
    r.retry = true;
    r.message = "cannot initialize libcurl";
    return r;
  }
  std::string host = mail.smtp_host.find(':') != std::string::npos && mail.smtp_host.front() != '['
                         ? "[" + mail.smtp_host + "]"  // an IPv6 literal
                         : mail.smtp_host;
  // Port 465 is SMTP over TLS from the first byte (RFC 8314); other ports speak plain SMTP,
  // upgraded with STARTTLS when configured (and then required: CURLUSESSL_ALL).
  std::string url = (mail.smtp_port == 465 ? "smtps://" : "smtp://") + host + ":" + std::to_string(mail.smtp_port);
  std::string password = mail.username.empty() ? "" : mail.password.value();
  std::string from = angle_address(mail.from);
  std::unique_ptr<curl_slist, SlistDeleter> rcpt;
  for (const auto& to : mail.to) {
    curl_slist* l = curl_slist_append(rcpt.get(), angle_address(to).c_str());
    if (!l) throw std::bad_alloc();
    (void)rcpt.release();
    rcpt.reset(l);
  }
  Upload up{&message};
  char errbuf[CURL_ERROR_SIZE] = {0};
  long timeout_ms = std::max(1L, long(timeout_s * 1000));
  CURL* h = c.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10000L));
  if (mail.starttls) curl_easy_setopt(h, CURLOPT_USE_SSL, long(CURLUSESSL_ALL));
  if (!mail.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, mail.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, password.c_str());
  }
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.size()));
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_message);
  curl_easy_setopt(h, CURLOPT_READDATA, &up);
  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OK) {
    r.ok = true;
    return r;
  }
  long reply = 0;  // the SMTP server's last reply code: 4xx is temporary, 5xx permanent
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  r.retry = reply >= 400 && reply < 500 ? true : reply >= 500 ? false : HttpClient::transient(int(rc));
  r.message =
      std::string("SMTP ") + (reply ? std::to_string(reply) + " " : "") + (errbuf[0] ? errbuf : curl_easy_strerror(rc));
  return r;
}

}  // namespace arca::server
