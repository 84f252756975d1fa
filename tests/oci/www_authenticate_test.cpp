#include <gtest/gtest.h>

#include "oci/www_authenticate.hpp"

namespace wwp::oci {
namespace {

TEST(WwwAuthenticateTest, BearerChallenge) {
  const auto challenges = parse_www_authenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].param("realm"), "https://auth.docker.io/token");
  EXPECT_EQ(challenges[0].param("service"), "registry.docker.io");
  EXPECT_EQ(challenges[0].param("scope"), "repository:library/alpine:pull");
}

TEST(WwwAuthenticateTest, BasicChallengeCaseAndSpacing) {
  const auto challenges = parse_www_authenticate(R"(BASIC   Realm = "wwp test" )");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_EQ(challenges[0].param("REALM"), "wwp test");
}

TEST(WwwAuthenticateTest, SeveralChallengesAndCommasInQuotes) {
  const auto challenges = parse_www_authenticate(
      R"(Basic realm="a, b", Bearer realm="https://x/token",scope="repository:a:pull,push", error="insufficient_scope")");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_EQ(challenges[0].param("realm"), "a, b");
  EXPECT_EQ(challenges[1].scheme, "bearer");
  EXPECT_EQ(challenges[1].param("scope"), "repository:a:pull,push");
  EXPECT_EQ(challenges[1].param("error"), "insufficient_scope");
}

TEST(WwwAuthenticateTest, EscapesTokensAndToken68) {
  auto challenges = parse_www_authenticate(R"(Bearer realm="say \"hi\"",service=plain-token)");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].param("realm"), "say \"hi\"");
  EXPECT_EQ(challenges[0].param("service"), "plain-token");

  challenges = parse_www_authenticate("Negotiate abc123==, Basic realm=x");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].token68, "abc123==");
  EXPECT_EQ(challenges[1].param("realm"), "x");
}

TEST(WwwAuthenticateTest, EmptyAndGarbage) {
  EXPECT_TRUE(parse_www_authenticate("").empty());
  EXPECT_TRUE(parse_www_authenticate("   ,  ").empty());
  const auto challenges = parse_www_authenticate(R"(Bearer realm="unterminated)");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].param("realm"), "unterminated");
  EXPECT_FALSE(challenges[0].param("service"));
}

}  // namespace
}  // namespace wwp::oci
