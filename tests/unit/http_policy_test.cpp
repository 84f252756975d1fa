// The outbound-HTTP policy: allow-list rules, operator deny ranges, template validation, and the
// wasi_experimental_http host module driven by a real C module against a recording transport.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "executor/http_policy.hpp"
#include "sandbox/engine.hpp"
#include "sandbox/run.hpp"

using namespace wwp;
using executor::HttpAllowList;
using model::Json;

namespace {

HttpAllowList allow(std::initializer_list<const char*> entries) {
  Json list = Json::array();
  for (const char* e : entries) list.push_back(e);
  auto parsed = HttpAllowList::parse(list, "allowed_hosts");
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return *parsed;
}

bool allowed(const HttpAllowList& list, const std::string& url) {
  return !list.refusal(url).has_value();
}

}  // namespace

TEST(HttpAllowList, SchemeHostAndPortMustAllMatch) {
  auto list = allow({"https://api.example.com", "http://127.0.0.1:8080"});
  EXPECT_TRUE(allowed(list, "https://api.example.com/v1/items?x=1"));
  EXPECT_TRUE(allowed(list, "https://API.Example.COM:443/"));
  EXPECT_TRUE(allowed(list, "http://127.0.0.1:8080/path"));
  EXPECT_FALSE(allowed(list, "http://api.example.com/"));        // scheme
  EXPECT_FALSE(allowed(list, "https://api.example.com:8443/"));  // no port: default port only
  EXPECT_FALSE(allowed(list, "http://127.0.0.1:8081/"));         // port
  EXPECT_FALSE(allowed(list, "http://127.0.0.1/"));
  EXPECT_FALSE(allowed(list, "https://evil.example.com/"));
  // User info does not fool the host check.
  EXPECT_FALSE(allowed(list, "https://api.example.com@evil.com/"));
  EXPECT_EQ(list.refusal("https://evil.com/x")->reason,
            "https://evil.com:443 is not in permissions.http.allowed_hosts");
  EXPECT_FALSE(list.refusal("https://evil.com/")->invalid_url);
  EXPECT_TRUE(list.refusal("not a url")->invalid_url);
  EXPECT_FALSE(allowed(list, "file:///etc/passwd"));
}

TEST(HttpAllowList, WildcardCoversSubdomainsNotTheApex) {
  auto list = allow({"https://*.example.com"});
  EXPECT_TRUE(allowed(list, "https://a.example.com/"));
  EXPECT_TRUE(allowed(list, "https://a.b.example.com/"));
  EXPECT_FALSE(allowed(list, "https://example.com/"));
  EXPECT_FALSE(allowed(list, "https://badexample.com/"));
  EXPECT_FALSE(allowed(list, "http://a.example.com/"));
}

TEST(HttpAllowList, Ipv6LiteralsAndTrailingDots) {
  auto list = allow({"http://[::1]:9000", "https://api.example.com."});
  EXPECT_TRUE(allowed(list, "http://[::1]:9000/"));
  EXPECT_TRUE(allowed(list, "https://api.example.com/"));
  EXPECT_FALSE(allowed(list, "http://[::2]:9000/"));
}

TEST(HttpAllowList, BadEntriesNameTheirIndex) {
  for (const char* bad : {"ftp://example.com", "https://example.com/path", "example.com", ""}) {
    auto parsed = HttpAllowList::parse(Json::array({"https://ok.example.com", bad}), "hosts");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().message.rfind("hosts[1]: ", 0), 0u) << parsed.error().message;
  }
  EXPECT_FALSE(HttpAllowList::parse(Json::array({1}), "hosts").ok());
  EXPECT_FALSE(HttpAllowList::parse("https://x", "hosts").ok());
}

TEST(AddressDenyList, RangesOfBothFamilies) {
  auto deny = executor::AddressDenyList::parse({"10.0.0.0/8", "169.254.0.0/16", "fd00::/8"});
  ASSERT_TRUE(deny.ok());
  EXPECT_EQ(deny->denying_range("10.1.2.3"), "10.0.0.0/8");
  EXPECT_EQ(deny->denying_range("169.254.169.254"), "169.254.0.0/16");
  EXPECT_EQ(deny->denying_range("fd12::1"), "fd00::/8");
  EXPECT_FALSE(deny->denying_range("11.0.0.1"));
  EXPECT_FALSE(deny->denying_range("127.0.0.1"));
  EXPECT_FALSE(deny->denying_range("not-an-ip"));
  EXPECT_FALSE(executor::AddressDenyList::parse({"10.0.0.0/33"}).ok());
  EXPECT_FALSE(executor::AddressDenyList::parse({"nonsense"}).ok());
}

TEST(HttpPolicy, TemplateFieldsAreCheckedAgainstTheOperatorsCaps) {
  executor::HttpSettings settings;
  settings.max_allowed_hosts = 2;
  settings.max_concurrent_requests = 4;
  auto deny = executor::AddressDenyList::parse({"10.0.0.0/8"});
  settings.deny = *deny;
  sandbox::HttpTransport transport = [](const sandbox::HttpRequest&,
                                        const sandbox::HttpRequestBounds&) {
    return Result<sandbox::HttpResponse>(sandbox::HttpResponse{200, {}, ""});
  };
  auto none = executor::make_http_policy(Json::object(), settings, transport);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto error = [&](const Json& permissions) {
    auto made = executor::make_http_policy(permissions, settings, transport);
    return made.ok() ? std::string() : made.error().message;
  };
  EXPECT_EQ(error({{"filesystem", true}}),
            "template.plugin.wasm.permissions.filesystem: not a capability this plugin grants "
            "(the only one is http)");
  EXPECT_EQ(error({{"http", {{"allowed_hosts", {"http://a", "http://b", "http://c"}}}}}),
            "template.plugin.wasm.permissions.http.allowed_hosts: 3 entries, the plugin allows "
            "at most 2");
  EXPECT_EQ(error({{"http", {{"max_concurrent_requests", 5}}}}),
            "template.plugin.wasm.permissions.http.max_concurrent_requests: expected a number "
            "from 1 to 4");
  EXPECT_EQ(error({{"http", {{"allowed", {}}}}}),
            "template.plugin.wasm.permissions.http.allowed: unknown field (allowed_hosts, "
            "max_concurrent_requests)");
  auto policy = executor::make_http_policy(
      {{"http", {{"allowed_hosts", {"http://10.1.1.1:80", "http://ok.example.com"}}}}}, settings,
      transport);
  ASSERT_TRUE(policy.ok() && policy->has_value());
  const auto& p = **policy;
  EXPECT_FALSE(p.refusal("http://ok.example.com/"));
  // Allowed by the template, but the operator denies the range.
  EXPECT_EQ(p.refusal("http://10.1.1.1/")->reason,
            "10.1.1.1 is in 10.0.0.0/8, which the plugin's operator denies");
  EXPECT_TRUE(p.address_refusal("10.9.9.9").has_value());
  EXPECT_FALSE(p.address_refusal("127.0.0.1").has_value());
}

namespace {

class HttpHostModule : public ::testing::Test {
 protected:
  void SetUp() override {
    sandbox::EngineSettings settings;
    settings.pool_instances = 4;
    settings.tiered = false;
    engine = std::move(*sandbox::Engine::create(settings));
    std::ifstream in(std::string(WWP_TEST_MODULE_DIR) + "/http_get.wasm", std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string wasm = bytes.str();
    auto compiled =
        engine->compile(std::span(reinterpret_cast<const std::uint8_t*>(wasm.data()), wasm.size()));
    ASSERT_TRUE(compiled.ok()) << compiled.error().message;
    module = *compiled;
  }
  sandbox::RunOutcome run(std::vector<std::string> args, std::optional<sandbox::HttpPolicy> http) {
    sandbox::RunSpec spec;
    spec.argv = {"http_get"};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.http = std::move(http);
    auto outcome = sandbox::run(*engine, module, spec);
    EXPECT_TRUE(outcome.ok());
    return outcome.ok() ? *outcome : sandbox::RunOutcome{};
  }
  sandbox::HttpPolicy policy() {
    sandbox::HttpPolicy p;
    p.refusal = [](const std::string& url) -> std::optional<sandbox::HttpRefusal> {
      if (url.starts_with("http://allowed/")) return std::nullopt;
      return sandbox::HttpRefusal{"not in permissions.http.allowed_hosts", false};
    };
    p.transport = [this](const sandbox::HttpRequest& request, const sandbox::HttpRequestBounds&) {
      requests.push_back(request);
      return Result<sandbox::HttpResponse>(
          sandbox::HttpResponse{201, {{"Content-Type", "text/x-test"}}, "body of " + request.url});
    };
    return p;
  }
  std::unique_ptr<sandbox::Engine> engine;
  sandbox::CompiledModule module;
  std::vector<sandbox::HttpRequest> requests;
};

}  // namespace

TEST_F(HttpHostModule, AllowedRequestReturnsStatusHeadersAndBody) {
  auto out = run({"http://allowed/x", "POST", "payload"}, policy());
  EXPECT_EQ(out.exit_code, 0) << out.stdout_data;
  EXPECT_EQ(out.stdout_data, "status=201\ncontent-type=text/x-test\nbody of http://allowed/x");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].body, "payload");
  ASSERT_EQ(requests[0].headers.size(), 1u);
  EXPECT_EQ(requests[0].headers[0],
            (std::pair<std::string, std::string>{"content-type", "text/plain"}));
  EXPECT_TRUE(out.notes.empty());
}

TEST_F(HttpHostModule, NoPermissionsAndUnlistedHostsGetError7AndANote) {
  auto denied = run({"http://allowed/x"}, std::nullopt);
  EXPECT_EQ(denied.exit_code, 107);
  ASSERT_EQ(denied.notes.size(), 1u);
  EXPECT_EQ(denied.notes[0],
            "outbound HTTP to http://allowed/x refused: the template grants no permissions.http "
            "(deny by default)");
  auto unlisted = run({"http://other/x"}, policy());
  EXPECT_EQ(unlisted.exit_code, 107);
  EXPECT_EQ(unlisted.notes.at(0),
            "outbound HTTP to http://other/x refused: not in permissions.http.allowed_hosts");
  EXPECT_TRUE(requests.empty());
}

TEST_F(HttpHostModule, ConcurrencyAndBudgetCapsGiveError13) {
  auto p = policy();
  p.max_concurrent_requests = 2;
  auto out = run({"http://allowed/x", "GET", "", "3"}, p);
  EXPECT_EQ(out.exit_code, 113);
  EXPECT_EQ(requests.size(), 2u);
  p = policy();
  p.max_requests = 1;
  requests.clear();
  out = run({"http://allowed/x", "GET", "", "2"}, p);
  EXPECT_EQ(out.exit_code, 113);
  EXPECT_EQ(requests.size(), 1u);
}

TEST_F(HttpHostModule, RefusedRedirectAndTransportErrorsAreReported) {
  auto p = policy();
  p.transport = [](const sandbox::HttpRequest&, const sandbox::HttpRequestBounds&) {
    return Result<sandbox::HttpResponse>(
        invalid("redirect to http://evil/ is not in permissions.http.allowed_hosts"));
  };
  auto out = run({"http://allowed/x"}, p);
  EXPECT_EQ(out.exit_code, 107);
  EXPECT_EQ(out.notes.at(0),
            "outbound HTTP to http://allowed/x refused: redirect to http://evil/ is not in "
            "permissions.http.allowed_hosts");
  p.transport = [](const sandbox::HttpRequest&, const sandbox::HttpRequestBounds&) {
    return Result<sandbox::HttpResponse>(limit_exceeded("response body over 16Mi"));
  };
  out = run({"http://allowed/x"}, p);
  EXPECT_EQ(out.exit_code, 111);
  EXPECT_EQ(out.notes.at(0), "outbound HTTP to http://allowed/x failed: response body over 16Mi");
}
