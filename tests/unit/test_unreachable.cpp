// A PostgreSQL, Redis or Kafka server that cannot be reached (nothing listening, or a listener
// that never answers) is one error kind, Unreachable (exit 10), whose message names the server
// and says what to check.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "ops/error_table.h"
#include "sources/kafka/kafka_client.h"
#include "sources/postgres/pg_conn.h"
#include "sources/redis/redis_conn.h"
#include "util/error.h"
#include "util/net.h"

using namespace arca;

namespace {

// A loopback port that accepts connections (the kernel completes the handshake) but never answers.
struct SilentListener {
  UniqueFd fd;
  int port = 0;
  SilentListener() : fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd.get(), 4), 0);
    EXPECT_EQ(getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len), 0);
    port = ntohs(a.sin_port);
  }
};

template <typename F>
Error error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error thrown";
  return Error(ErrorKind::Generic, "");
}

void expect_unreachable(const Error& e, const std::string& server, const std::string& hint) {
  EXPECT_EQ(e.kind(), ErrorKind::Unreachable) << e.what();
  EXPECT_EQ(exit_code_for(e.kind()), 10);
  EXPECT_NE(std::string(e.what()).find(server), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find(hint), std::string::npos) << e.what();
}

}  // namespace

TEST(Unreachable, PostgresClosedPort) {
  int port = free_port();
  Error e = error_of([&] { PgConn c("host=127.0.0.1 port=" + std::to_string(port), PgConn::Mode::Normal); });
  expect_unreachable(e, "cannot reach PostgreSQL at 127.0.0.1:" + std::to_string(port), "is the server running");
}

TEST(Unreachable, PostgresSilentServer) {
  SilentListener l;
  Error e = error_of(
      [&] { PgConn c("host=127.0.0.1 connect_timeout=1 port=" + std::to_string(l.port), PgConn::Mode::Replication); });
  expect_unreachable(e, "cannot reach PostgreSQL at 127.0.0.1:" + std::to_string(l.port), "is the server running");
}

TEST(Unreachable, PostgresUnknownHost) {
  Error e = error_of([&] { PgConn c("host=no-such-host.invalid port=5432", PgConn::Mode::Normal); });
  expect_unreachable(e, "cannot reach PostgreSQL at no-such-host.invalid:5432", "are host and port right");
}

TEST(Unreachable, RedisClosedPort) {
  int port = free_port();
  Error e = error_of([&] { RedisConn c(RedisUrl::parse("redis://127.0.0.1:" + std::to_string(port)), RedisTls{}); });
  expect_unreachable(e, "cannot reach Redis at redis://127.0.0.1:" + std::to_string(port), "is the server running");
}

TEST(Unreachable, RedisSilentServer) {
  SilentListener l;
  Error e =
      error_of([&] { RedisConn c(RedisUrl::parse("redis://127.0.0.1:" + std::to_string(l.port)), RedisTls{}, 300); });
  expect_unreachable(e, "Redis at redis://127.0.0.1:" + std::to_string(l.port), "answering on this port");
}

TEST(Unreachable, RedisTlsHandshakeToSilentServer) {
  SilentListener l;
  Error e =
      error_of([&] { RedisConn c(RedisUrl::parse("rediss://127.0.0.1:" + std::to_string(l.port)), RedisTls{}, 300); });
  expect_unreachable(e, "cannot reach Redis at rediss://127.0.0.1:" + std::to_string(l.port), "accept TLS");
}

TEST(Unreachable, KafkaClosedPort) {
  int port = free_port();
  KafkaOptions o;
  o.brokers = "127.0.0.1:" + std::to_string(port);
  o.timeout_ms = 1500;
  Error e = error_of([&] {
    KafkaClient k(o, KafkaClient::Kind::Producer);
    k.topics(std::nullopt);
  });
  expect_unreachable(e, "Kafka cluster at 127.0.0.1:" + std::to_string(port), "are the brokers running");
}
