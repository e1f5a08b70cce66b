// The backend conformance suite against a real S3 server, and the S3-specific failure paths.
#include <gtest/gtest.h>

#include <chrono>

#include "../unit/backend_conformance.h"
#include "s3_test_env.h"
#include "storage/s3/s3_backend.h"
#include "util/error.h"

using namespace arca;

namespace {

std::unique_ptr<S3Backend> s3_backend(const std::string& location, BackendOptions opts = {}) {
  opts.emplace("s3.create-bucket", "true");
  opts.emplace("s3.retry-base", "0.05");
  return std::make_unique<S3Backend>(parse_s3_options(location, opts));
}

ErrorKind kind_of(const std::function<void()>& fn, std::string* message = nullptr) {
  try {
    fn();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "no error thrown";
  return ErrorKind::Generic;
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(S3, BackendConformance,
                         ::testing::Values(BackendFactory{"s3",
                                                          [](const BackendOptions& o) -> std::unique_ptr<Backend> {
                                                            return s3_backend(s3_test_location(), o);
                                                          },
                                                          s3_test_kind() != "swift"}),
                         [](const auto& info) { return info.param.name; });

TEST(S3Backend, WrongSecretIsAnAuthErrorNamingTheFix) {
  auto good = s3_backend(s3_test_location());
  good->create();
  std::string secret = getenv("AWS_SECRET_ACCESS_KEY");
  setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
  auto bad = s3_backend(s3_test_location());
  setenv("AWS_SECRET_ACCESS_KEY", secret.c_str(), 1);
  std::string msg;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of([&] { bad->get("config"); }, &msg), ErrorKind::Auth);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5))
      << "credential errors must not be retried";
  EXPECT_NE(msg.find("credentials"), std::string::npos) << msg;
  EXPECT_NE(msg.find("SignatureDoesNotMatch"), std::string::npos) << msg;
}

TEST(S3Backend, MissingBucketSaysHowToCreateIt) {
  auto b = std::make_unique<S3Backend>(parse_s3_options("s3:" + s3_test_endpoint() + "/no-such-bucket-here", {}));
  EXPECT_FALSE(b->exists());
  std::string msg;
  EXPECT_EQ(kind_of([&] { b->create(); }, &msg), ErrorKind::NotFound);
  EXPECT_NE(msg.find("--create-bucket"), std::string::npos) << msg;
  EXPECT_EQ(kind_of([&] { b->put("x", as_view("y")); }, &msg), ErrorKind::NotFound);
  EXPECT_NE(msg.find("no-such-bucket-here"), std::string::npos) << msg;
}

TEST(S3Backend, UnreachableEndpointFailsAfterTheRetryBudget) {
  // A port nothing listens on: connection refused, retried, then a final error naming the endpoint.
  auto b = std::make_unique<S3Backend>(
      parse_s3_options("s3:http://127.0.0.1:9/bucket", {{"s3.retries", "3"}, {"s3.retry-base", "0.05"}}));
  std::string msg;
  EXPECT_EQ(kind_of([&] { b->get("config"); }, &msg), ErrorKind::Unreachable);
  EXPECT_NE(msg.find("gave up after 4 attempts"), std::string::npos) << msg;
  EXPECT_NE(msg.find("127.0.0.1:9"), std::string::npos) << msg;
  EXPECT_EQ(b->retries(), 3u);
}

TEST(S3Backend, PlainHttpServerSpokenToOverTlsIsATlsError) {
  // A failed handshake is retried (servers restarting cut handshakes short too), then explained.
  std::string ep = s3_test_endpoint();
  auto b = std::make_unique<S3Backend>(parse_s3_options("s3:https://" + ep.substr(ep.find("://") + 3) + "/bucket",
                                                        {{"s3.retries", "1"}, {"s3.retry-base", "0.05"}}));
  std::string msg;
  EXPECT_EQ(kind_of([&] { b->exists(); }, &msg), ErrorKind::Io);
  EXPECT_NE(msg.find("speaks TLS"), std::string::npos) << msg;
  EXPECT_NE(msg.find("s3.ca-bundle"), std::string::npos) << msg;
  EXPECT_EQ(b->retries(), 1u);
}

TEST(S3Backend, CreateIfAbsentHoldsWhereTheStoreIgnoresConditionalWrites) {
  // Object Lock buckets are versioned; Ceph then accepts If-None-Match: * and ignores it. The
  // probe must notice, so that an existing object is never replaced.
  std::string bucket = "arca-locked-" + random_id().short_hex();
  auto b = s3_backend("s3:" + s3_test_endpoint() + "/" + bucket + "/repo", {{"s3.bucket-object-lock", "true"}});
  b->create();
  EXPECT_TRUE(b->put_if_absent("keyring/00000002", as_view("first")));
  EXPECT_FALSE(b->put_if_absent("keyring/00000002", as_view("second")));
  EXPECT_EQ(as_string(b->get("keyring/00000002")), "first");
  std::vector<std::string> names;
  b->list("", [&](const ObjectInfo& o) { names.push_back(o.name); });
  EXPECT_EQ(names, std::vector<std::string>{"keyring/00000002"}) << "the probe must leave nothing behind";
}
