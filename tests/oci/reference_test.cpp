#include <gtest/gtest.h>

#include <vector>

#include "oci/reference.hpp"

namespace wwp::oci {
namespace {

const std::string kHex(64, 'a');

Reference parse_ok(const std::string& text) {
  auto ref = parse_reference(text);
  EXPECT_TRUE(ref) << text << ": " << (ref ? "" : ref.error().message);
  return ref ? *ref : Reference{};
}

TEST(ReferenceTest, RegistryRepositoryTag) {
  const Reference ref = parse_ok("ghcr.io/org/tool:1.2");
  EXPECT_EQ(ref.registry, "ghcr.io");
  EXPECT_EQ(ref.repository, "org/tool");
  EXPECT_EQ(ref.tag, "1.2");
  EXPECT_FALSE(ref.digest);
  EXPECT_EQ(ref.manifest_reference(), "1.2");
  EXPECT_EQ(ref.str(), "ghcr.io/org/tool:1.2");
}

TEST(ReferenceTest, DefaultTagIsLatest) {
  const Reference ref = parse_ok("ghcr.io/org/tool");
  EXPECT_EQ(ref.tag, "latest");
  EXPECT_EQ(ref.str(), "ghcr.io/org/tool:latest");
}

TEST(ReferenceTest, PortIsNotATag) {
  const Reference ref = parse_ok("localhost:5000/hello");
  EXPECT_EQ(ref.registry, "localhost:5000");
  EXPECT_EQ(ref.repository, "hello");
  EXPECT_EQ(ref.tag, "latest");
  const Reference tagged = parse_ok("127.0.0.1:5000/a/b/c:v1");
  EXPECT_EQ(tagged.registry, "127.0.0.1:5000");
  EXPECT_EQ(tagged.repository, "a/b/c");
  EXPECT_EQ(tagged.tag, "v1");
}

TEST(ReferenceTest, Digest) {
  const Reference ref = parse_ok("registry.example.com/mod@sha256:" + kHex);
  EXPECT_EQ(ref.repository, "mod");
  EXPECT_FALSE(ref.tag);
  ASSERT_TRUE(ref.digest);
  EXPECT_EQ(ref.digest->hex, kHex);
  EXPECT_EQ(ref.manifest_reference(), "sha256:" + kHex);
  const Reference both = parse_ok("registry.example.com/mod:v2@sha256:" + kHex);
  EXPECT_EQ(both.tag, "v2");
  EXPECT_EQ(both.manifest_reference(), "sha256:" + kHex);  // the digest wins
  EXPECT_EQ(both.str(), "registry.example.com/mod:v2@sha256:" + kHex);
}

TEST(ReferenceTest, DockerHubShortNames) {
  const Reference alpine = parse_ok("alpine");
  EXPECT_EQ(alpine.registry, "registry-1.docker.io");
  EXPECT_EQ(alpine.repository, "library/alpine");
  EXPECT_EQ(alpine.tag, "latest");
  const Reference user = parse_ok("someone/tool:3");
  EXPECT_EQ(user.registry, "registry-1.docker.io");
  EXPECT_EQ(user.repository, "someone/tool");
  for (const char* text : {"docker.io/alpine", "index.docker.io/alpine", "docker.io/library/alpine",
                           "registry-1.docker.io/library/alpine:latest"}) {
    const Reference ref = parse_ok(text);
    EXPECT_EQ(ref.registry, "registry-1.docker.io") << text;
    EXPECT_EQ(ref.repository, "library/alpine") << text;
  }
}

TEST(ReferenceTest, LocalhostAndUppercaseHostsAreRegistries) {
  EXPECT_EQ(parse_ok("localhost/x").registry, "localhost");
  EXPECT_EQ(parse_ok("MyHost/x").registry, "MyHost");
  // Found by fuzzing (tests/fuzz/corpus/oci_reference/regression-uppercase-host): lowercased,
  // the host printed as "myhost/x:latest", which names the Docker Hub user myhost.
  EXPECT_EQ(parse_ok(parse_ok("MyHost/x").str()).registry, "MyHost");
  EXPECT_EQ(parse_ok("myhost/x").registry, "registry-1.docker.io");  // a Docker Hub user
}

TEST(ReferenceTest, OciPrefixAndSeparators) {
  EXPECT_EQ(parse_ok("oci://ghcr.io/a/b:1").str(), "ghcr.io/a/b:1");
  EXPECT_EQ(parse_ok("ghcr.io/a__b/c.d/e-f--g:x_Y.1-2").repository, "a__b/c.d/e-f--g");
  EXPECT_EQ(parse_ok("[::1]:5000/x:1").registry, "[::1]:5000");
}

TEST(ReferenceTest, RoundTrips) {
  for (const std::string& text : std::vector<std::string>{
           "ghcr.io/a/b:1", "localhost:5000/x:latest", "registry-1.docker.io/library/alpine:3",
           "example.com/m@sha256:" + kHex}) {
    EXPECT_EQ(parse_ok(parse_ok(text).str()).str(), text);
  }
}

TEST(ReferenceTest, Rejects) {
  for (const std::string& text :
       std::vector<std::string>{"", "ghcr.io/", "ghcr.io/UPPER/x", "ghcr.io/a//b", "ghcr.io/-a",
                                "ghcr.io/a:", "ghcr.io/a:-x", "ghcr.io/a:" + std::string(129, 't'),
                                "ghcr.io/a@sha256:abc", "ghcr.io/a@md5:" + kHex,
                                "ghcr.io/a@sha512:" + std::string(128, 'a'), "ghcr.io/a b",
                                "ghcr.io/a...b", "bad_host:5000x/a"}) {
    auto ref = parse_reference(text);
    EXPECT_FALSE(ref) << "accepted: " << text;
    if (!ref) {
      EXPECT_EQ(ref.error().kind, ErrorKind::InvalidRequest);
      EXPECT_NE(ref.error().message.find("invalid OCI reference"), std::string::npos);
    }
  }
}

TEST(ReferenceTest, NormalizeRegistryHost) {
  EXPECT_EQ(normalize_registry_host("https://index.docker.io/v1/"), "registry-1.docker.io");
  EXPECT_EQ(normalize_registry_host("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(normalize_registry_host("http://Reg.Example.com:5000/path"), "reg.example.com:5000");
}

}  // namespace
}  // namespace wwp::oci
