// The generic HTTP client (src/net) and what an unreachable S3 endpoint becomes: the same kind
// (and exit code 10) as an unreachable PostgreSQL, Redis or Kafka, naming the endpoint.
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/http_client.h"
#include "storage/s3/s3_backend.h"
#include "util/error.h"

using namespace arca;

namespace {

// A loopback port nothing listens on: bound, then closed again.
int closed_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

}  // namespace

TEST(HttpClient, ConnectionRefusedIsAnUnreachableTransportError) {
  int setups = 0;
  HttpConfig config;  // not a designated initializer: GCC 12 warns about the members it leaves out
  config.max_connections = 2;
  config.setup_request = [&](void* curl) {
    EXPECT_NE(curl, nullptr);
    setups++;
  };
  HttpClient http(config);
  std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x";
  for (int i = 0; i < 2; i++) {
    HttpResponse r = http.perform(HttpRequest{.method = "GET", .url = url});
    EXPECT_EQ(r.status, 0);
    EXPECT_TRUE(HttpClient::unreachable(r.transport_error)) << r.transport_message;
    EXPECT_TRUE(HttpClient::transient(r.transport_error));
  }
  EXPECT_EQ(setups, 2) << "the setup hook runs for every request";
}

TEST(HttpClient, WhichTransportErrorsMeanUnreachable) {
  for (CURLcode c : {CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT})
    EXPECT_TRUE(HttpClient::unreachable(int(c))) << c;
  for (CURLcode c : {CURLE_OK, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_RECV_ERROR})
    EXPECT_FALSE(HttpClient::unreachable(int(c))) << c;
}

TEST(S3Unreachable, ClosedPortIsUnreachableNamingTheEndpointAfterRetries) {
  S3Options o;
  o.scheme = "http";
  o.host = "127.0.0.1:" + std::to_string(closed_port());
  o.bucket = "bucket";
  o.access_key = "AK";
  o.secret_key = "SK";
  o.credentials_source = "the test";
  o.max_attempts = 3;
  o.retry_base_s = 0.01;
  S3Backend b(o);
  try {
    b.get("config");
    FAIL() << "a closed port answered";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::Unreachable) << msg;
    EXPECT_NE(msg.find("http://" + o.host), std::string::npos) << msg;
    EXPECT_NE(msg.find("gave up after 3 attempts"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Check that the server is up"), std::string::npos) << msg;
  }
  EXPECT_EQ(b.retries(), 2u);
}
