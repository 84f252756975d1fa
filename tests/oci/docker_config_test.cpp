#include <gtest/gtest.h>

#include "common/base64.hpp"
#include "oci/docker_config.hpp"

namespace wwp::oci {
namespace {

TEST(Base64Test, RoundTrip) {
  for (const std::string& text : std::vector<std::string>{
           "", "a", "ab", "abc", "abcd", "user:pa:ss", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(base64_decode(base64_encode(text)), text);
  }
  EXPECT_EQ(base64_encode("alice:secret"), "YWxpY2U6c2VjcmV0");
  EXPECT_FALSE(base64_decode("not base64!"));
  EXPECT_EQ(base64_decode("YWxpY2U6c2VjcmV0"), "alice:secret");
}

TEST(DockerConfigTest, AuthsWithAuthField) {
  const std::string json = R"({"auths": {
      "ghcr.io": {"auth": ")" +
                           base64_encode("alice:secret") + R"("},
      "https://index.docker.io/v1/": {"auth": ")" +
                           base64_encode("bob:pw:with:colons") + R"("},
      "localhost:5000": {"username": "carol", "password": "pw3"},
      "acr.example.com": {"identitytoken": "refresh-me"}
    }, "credsStore": "desktop"})";
  auto store = CredentialStore::from_docker_config(json, "test");
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(store->size(), 4u);
  auto ghcr = store->find("ghcr.io");
  ASSERT_TRUE(ghcr);
  EXPECT_EQ(ghcr->username, "alice");
  EXPECT_EQ(ghcr->password, "secret");
  auto hub = store->find("registry-1.docker.io");
  ASSERT_TRUE(hub);
  EXPECT_EQ(hub->username, "bob");
  EXPECT_EQ(hub->password, "pw:with:colons");
  EXPECT_EQ(store->find("docker.io")->username, "bob");
  EXPECT_EQ(store->find("LOCALHOST:5000")->username, "carol");
  EXPECT_FALSE(store->find("localhost:5001"));
  EXPECT_EQ(store->find("acr.example.com")->identity_token, "refresh-me");
}

TEST(DockerConfigTest, LegacyDockercfgLayout) {
  const std::string json =
      R"({"quay.io": {"auth": ")" + base64_encode("u:p") + R"(", "email": "x@y"}})";
  auto store = CredentialStore::from_docker_config(json, "legacy");
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ(store->find("quay.io")->password, "p");
}

TEST(DockerConfigTest, ErrorsNeverContainSecrets) {
  const std::string secret = "TopSecretValue";
  for (const std::string& json : std::vector<std::string>{
           R"({"auths": {"r.io": {"auth": ")" + secret + R"(!!"}}})",
           R"({"auths": {"r.io": {"auth": ")" + base64_encode(secret) + R"("}}})",  // no colon
           R"({"auths": {"r.io": {"password": 42}}})", R"({"auths": [")" + secret + R"("]})",
           "{not json " + secret}) {
    auto store = CredentialStore::from_docker_config(json, "/secrets/config.json");
    ASSERT_FALSE(store) << json;
    EXPECT_EQ(store.error().message.find(secret), std::string::npos) << store.error().message;
    EXPECT_NE(store.error().message.find("/secrets/config.json"), std::string::npos);
  }
}

TEST(DockerConfigTest, DefaultCredentials) {
  CredentialStore store;
  store.add("ghcr.io", {"config-user", "config-pass", ""});
  store.set_default({"flag-user", "flag-pass", ""});
  EXPECT_EQ(store.find("ghcr.io")->username, "config-user");  // the config entry wins
  EXPECT_EQ(store.find("other.io")->username, "flag-user");
  store.set_default({"flag-user", "flag-pass", ""}, {"private.example.com:5000"});
  EXPECT_FALSE(store.find("other.io"));  // not sent to registries outside the list
  EXPECT_EQ(store.find("private.example.com:5000")->username, "flag-user");
}

TEST(DockerConfigTest, MissingFile) {
  auto store = CredentialStore::from_docker_config_file("/nonexistent/config.json");
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("/nonexistent/config.json"), std::string::npos);
}

}  // namespace
}  // namespace wwp::oci
