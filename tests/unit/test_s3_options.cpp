#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "storage/s3/s3_options.h"
#include "storage/s3/xml.h"
#include "test_util.h"
#include "util/error.h"

using namespace arca;

namespace {

// Sets environment variables for one test and restores them afterwards.
struct EnvGuard {
  std::vector<std::pair<std::string, std::optional<std::string>>> saved;
  void set(const std::string& k, const std::optional<std::string>& v) {
    const char* old = std::getenv(k.c_str());
    saved.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
    if (v)
      setenv(k.c_str(), v->c_str(), 1);
    else
      unsetenv(k.c_str());
  }
  ~EnvGuard() {
    for (auto it = saved.rbegin(); it != saved.rend(); ++it) {
      if (it->second)
        setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        unsetenv(it->first.c_str());
    }
  }
};

void clean_aws_env(EnvGuard& g) {
  for (const char* k : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                        "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"})
    g.set(k, std::nullopt);
}

ErrorKind kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::Generic;
}

}  // namespace

TEST(S3Options, ParsesLocationsAndOptions) {
  EnvGuard g;
  clean_aws_env(g);
  g.set("AWS_ACCESS_KEY_ID", "AK");
  g.set("AWS_SECRET_ACCESS_KEY", "SK");
  auto o = parse_s3_options("s3:http://127.0.0.1:9000/my-bucket/some/prefix/", {});
  EXPECT_EQ(o.scheme, "http");
  EXPECT_EQ(o.host, "127.0.0.1:9000");
  EXPECT_EQ(o.bucket, "my-bucket");
  EXPECT_EQ(o.prefix, "some/prefix/");
  EXPECT_TRUE(o.path_style);
  EXPECT_EQ(o.region, "us-east-1");
  EXPECT_EQ(o.access_key, "AK");
  auto aws = parse_s3_options("s3:https://s3.eu-west-1.amazonaws.com/bkt", {{"s3.region", "eu-west-1"},
                                                                            {"s3.connections", "16"},
                                                                            {"s3.list-page-size", "250"},
                                                                            {"s3.retries", "3"},
                                                                            {"s3.object-lock-mode", "COMPLIANCE"},
                                                                            {"s3.object-lock-days", "30"}});
  EXPECT_FALSE(aws.path_style);
  EXPECT_EQ(aws.prefix, "");
  EXPECT_EQ(aws.region, "eu-west-1");
  EXPECT_EQ(aws.connections, 16u);
  EXPECT_EQ(aws.list_page_size, 250u);
  EXPECT_EQ(o.list_page_size, 1000u) << "S3's own maximum by default";
  EXPECT_EQ(aws.max_attempts, 4u);
  EXPECT_EQ(aws.lock_days, 30u);
}

TEST(S3Options, BadSettingsAreUsageErrors) {
  EnvGuard g;
  clean_aws_env(g);
  g.set("AWS_ACCESS_KEY_ID", "AK");
  g.set("AWS_SECRET_ACCESS_KEY", "SK");
  for (const char* loc : {"s3:127.0.0.1/bucket", "s3:ftp://host/bucket", "s3:http://host/", "s3:http://host/B_ad",
                          "s3:http://user:pw@host/bucket"})
    EXPECT_EQ(kind_of([&] { parse_s3_options(loc, {}); }), ErrorKind::Usage) << loc;
  std::string ok = "s3:http://host/bucket";
  for (BackendOptions bad : std::vector<BackendOptions>{{{"s3.nope", "1"}},
                                                        {{"s3.connections", "0"}},
                                                        {{"s3.connections", "x"}},
                                                        {{"s3.list-page-size", "0"}},
                                                        {{"s3.list-page-size", "1001"}},
                                                        {{"s3.insecure-tls", "maybe"}},
                                                        {{"s3.sse", "rot13"}},
                                                        {{"s3.object-lock-mode", "GOVERNANCE"}},
                                                        {{"s3.part-size", "1"}},
                                                        {{"s3.conditional-writes", "sometimes"}}})
    EXPECT_EQ(kind_of([&] { parse_s3_options(ok, bad); }), ErrorKind::Usage) << bad.begin()->first;
}

TEST(S3Options, CredentialsFromProfileFileAndRegionFromConfig) {
  EnvGuard g;
  clean_aws_env(g);
  TempDir dir;
  std::ofstream(dir.path + "/credentials") << "[default]\naws_access_key_id = DEF\naws_secret_access_key = defsecret\n"
                                              "[backup]\naws_access_key_id=BK\naws_secret_access_key=bksecret\n"
                                              "aws_session_token = tok\n";
  std::ofstream(dir.path + "/config") << "[profile backup]\nregion = eu-central-1\n";
  g.set("AWS_SHARED_CREDENTIALS_FILE", dir.path + "/credentials");
  g.set("AWS_CONFIG_FILE", dir.path + "/config");
  auto d = parse_s3_options("s3:http://h/bucket", {});
  EXPECT_EQ(d.access_key, "DEF");
  EXPECT_EQ(d.region, "us-east-1");
  auto b = parse_s3_options("s3:http://h/bucket", {{"s3.profile", "backup"}});
  EXPECT_EQ(b.access_key, "BK");
  EXPECT_EQ(b.secret_key, "bksecret");
  EXPECT_EQ(b.session_token, "tok");
  EXPECT_EQ(b.region, "eu-central-1");
  EXPECT_NE(b.credentials_source.find("backup"), std::string::npos);
  // The environment wins over the default profile, an explicit profile over the environment.
  g.set("AWS_ACCESS_KEY_ID", "ENV");
  g.set("AWS_SECRET_ACCESS_KEY", "envsecret");
  EXPECT_EQ(parse_s3_options("s3:http://h/bucket", {}).access_key, "ENV");
  EXPECT_EQ(parse_s3_options("s3:http://h/bucket", {{"s3.profile", "backup"}}).access_key, "BK");
  EXPECT_EQ(kind_of([&] { parse_s3_options("s3:http://h/bucket", {{"s3.profile", "missing"}}); }), ErrorKind::Auth);
}

TEST(S3Options, NoCredentialsIsAnAuthError) {
  EnvGuard g;
  clean_aws_env(g);
  g.set("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
  EXPECT_EQ(kind_of([] { parse_s3_options("s3:http://h/bucket", {}); }), ErrorKind::Auth);
}

TEST(S3Xml, ExtractsElementsAndDecodesEntities) {
  std::string doc =
      "<?xml version=\"1.0\"?><ListBucketResult><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>"
      "<Contents><Key>a&amp;b</Key><Size>10</Size></Contents>"
      "<Contents><Key>c&#x41;&#66;&lt;</Key><Size>0</Size></Contents><Prefix/>"
      "<NextContinuationToken>tok</NextContinuationToken></ListBucketResult>";
  auto items = xml::elements(doc, "Contents");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(xml::text(items[0], "Key"), "a&b");
  EXPECT_EQ(xml::text(items[1], "Key"), "cAB<");
  EXPECT_EQ(xml::text(doc, "Key"), "a&b");  // <KeyCount> is not <Key>
  EXPECT_EQ(xml::text(doc, "IsTruncated"), "true");
  EXPECT_EQ(xml::text(doc, "Prefix"), "");
  EXPECT_EQ(xml::text(doc, "Missing"), "");
  EXPECT_EQ(xml::escape("<a&\">"), "&lt;a&amp;&quot;&gt;");
}
