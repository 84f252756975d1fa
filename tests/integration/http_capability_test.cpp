// Outbound HTTP for modules through the real binary: a real C module (http_get.wasm, the
// wasi_experimental_http ABI) against loopback HTTP servers, with the allow-list, the operator's
// caps, redirects and a server that never answers.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "plugin_process.hpp"

using namespace wwp::testing;

namespace {

// A loopback server on its own thread; /hang waits until the server is stopped.
class TestServer {
 public:
  explicit TestServer(std::function<void(httplib::Server&)> routes) {
    routes(server_);
    server_.Get("/hang", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock lock(mutex_);
      released_.wait(lock, [this] { return stopping_; });
      res.set_content("late", "text/plain");
    });
    // Bound and listening here: connections queue until the accept loop runs.
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~TestServer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    released_.notify_all();
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable released_;
  bool stopping_ = false;
};

class HttpCapability : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    other = new TestServer([](httplib::Server& s) {
      s.Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("not for modules", "text/plain");
      });
    });
    allowed = new TestServer([](httplib::Server& s) {
      s.Get("/hello", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("hello from loopback", "text/plain");
      });
      s.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
        res.status = 201;
        res.set_content(req.body, req.get_header_value("content-type"));
      });
      s.Get("/big", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(4096, 'x'), "text/plain");
      });
      s.Get("/to-other", [](const httplib::Request&, httplib::Response& res) {
        res.set_redirect(other->url("/"));
      });
      s.Get("/to-self", [](const httplib::Request&, httplib::Response& res) {
        res.set_redirect(allowed->url("/hello"));
      });
    });
    plugin = new PluginProcess({"--http-max-response", "1Ki", "--http-timeout", "1s"});
  }
  static void TearDownTestSuite() {
    delete plugin;
    delete allowed;
    delete other;
  }

  static Json get(const std::string& url, Json permissions, Json extra_args = Json::array()) {
    Json args = Json::array({url});
    for (const auto& a : extra_args) args.push_back(a);
    Json wasm = {{"args", args}};
    if (!permissions.is_null()) wasm["permissions"] = permissions;
    auto reply = plugin->execute(wasm_template("http_get.wasm", wasm));
    EXPECT_EQ(reply.status, 200) << reply.raw;
    return reply.body.value("node", Json());
  }
  static Json allow_only_allowed() {
    return {{"http", {{"allowed_hosts", {"http://127.0.0.1:" + std::to_string(allowed->port())}}}}};
  }

  static TestServer* allowed;
  static TestServer* other;
  static PluginProcess* plugin;
};
TestServer* HttpCapability::allowed = nullptr;
TestServer* HttpCapability::other = nullptr;
PluginProcess* HttpCapability::plugin = nullptr;

std::string message(const Json& node) { return node.value("message", ""); }

}  // namespace

TEST_F(HttpCapability, AllowedUrlReturnsStatusHeadersAndBody) {
  Json node = get(allowed->url("/hello"), allow_only_allowed());
  EXPECT_EQ(node["phase"], "Succeeded") << node.dump();
  EXPECT_EQ(node["outputs"]["result"], "status=200\ncontent-type=text/plain\nhello from loopback");
  node = get(allowed->url("/echo"), allow_only_allowed(), {"POST", "sent by the module"});
  EXPECT_EQ(node["outputs"]["result"], "status=201\ncontent-type=text/plain\nsent by the module");
  // A redirect to an allowed destination is followed.
  node = get(allowed->url("/to-self"), allow_only_allowed());
  EXPECT_EQ(node["outputs"]["result"], "status=200\ncontent-type=text/plain\nhello from loopback");
}

TEST_F(HttpCapability, DestinationsNotOnTheListGetError7AndAreNamed) {
  const std::string port = std::to_string(allowed->port());
  const std::vector<std::pair<std::string, std::string>> refused = {
      {other->url("/"), "http://127.0.0.1:" + std::to_string(other->port())},  // port
      {"http://localhost:" + port + "/hello", "http://localhost:" + port},     // host (same IP)
      {"https://127.0.0.1:" + port + "/hello", "https://127.0.0.1:" + port},   // scheme
  };
  for (const auto& [url, named] : refused) {
    Json node = get(url, allow_only_allowed());
    EXPECT_EQ(node["phase"], "Failed") << url;
    EXPECT_EQ(node["outputs"]["exitCode"], "107") << node.dump();
    EXPECT_NE(message(node).find("outbound HTTP to " + url + " refused: " + named +
                                 " is not in permissions.http.allowed_hosts"),
              std::string::npos)
        << message(node);
  }
}

TEST_F(HttpCapability, RedirectToADestinationNotOnTheListIsRefused) {
  Json node = get(allowed->url("/to-other"), allow_only_allowed());
  EXPECT_EQ(node["outputs"]["exitCode"], "107") << node.dump();
  EXPECT_NE(message(node).find("redirect"), std::string::npos) << message(node);
  EXPECT_NE(message(node).find(std::to_string(other->port())), std::string::npos) << message(node);
}

TEST_F(HttpCapability, NoPermissionsRefusesEverything) {
  Json node = get(allowed->url("/hello"), nullptr);
  EXPECT_EQ(node["outputs"]["exitCode"], "107") << node.dump();
  EXPECT_NE(message(node).find("the template grants no permissions.http (deny by default)"),
            std::string::npos)
      << message(node);
}

TEST_F(HttpCapability, ConcurrencyAndSizeCapsHold) {
  Json permissions = allow_only_allowed();
  permissions["http"]["max_concurrent_requests"] = 2;
  Json node = get(allowed->url("/hello"), permissions, {"GET", "", "3"});
  EXPECT_EQ(node["outputs"]["exitCode"], "113") << node.dump();
  node = get(allowed->url("/big"), allow_only_allowed());
  EXPECT_EQ(node["outputs"]["exitCode"], "111") << node.dump();
  EXPECT_NE(message(node).find("1Ki"), std::string::npos) << message(node);
}

TEST_F(HttpCapability, BadPermissionsFailTheStepNamingTheField) {
  Json node = get(allowed->url("/hello"), {{"http", {{"allowed_hosts", {"ftp://x"}}}}});
  EXPECT_EQ(node["phase"], "Failed");
  EXPECT_EQ(message(node).rfind("template.plugin.wasm.permissions.http.allowed_hosts[0]: ", 0), 0u)
      << message(node);
}

TEST_F(HttpCapability, AServerThatNeverAnswersCostsOneTimeoutAndNothingElse) {
  Json node = get(allowed->url("/hang"), allow_only_allowed());
  EXPECT_EQ(node["outputs"]["exitCode"], "111") << node.dump();
  // The plugin is fine afterwards.
  node = get(allowed->url("/hello"), allow_only_allowed());
  EXPECT_EQ(node["phase"], "Succeeded") << node.dump();
}

TEST_F(HttpCapability, TheHttpRequestExampleReturnsStatusBodyAndContentType) {
  auto params = [](const std::string& url, const std::string& method, const std::string& body) {
    return Json{{"parameters",
                 {{{"name", "url"}, {"value", url}},
                  {{"name", "method"}, {"value", method}},
                  {{"name", "body"}, {"value", body}},
                  {{"name", "content_type"}, {"value", "application/json"}}}}};
  };
  Json tmpl = wasm_template("http-request.wasm", {{"permissions", allow_only_allowed()}});
  tmpl["inputs"] = params(allowed->url("/echo"), "POST", R"({"hello":"wasm"})");
  auto reply = plugin->execute(tmpl);
  Json node = reply.body.value("node", Json());
  EXPECT_EQ(node["phase"], "Succeeded") << reply.raw;
  Json expected = Json::array({{{"name", "status_code"}, {"value", "201"}},
                               {{"name", "body"}, {"value", R"({"hello":"wasm"})"}},
                               {{"name", "content_type"}, {"value", "application/json"}}});
  EXPECT_EQ(node["outputs"]["parameters"], expected) << reply.raw;

  tmpl["inputs"] = params(other->url("/"), "GET", "");
  reply = plugin->execute(tmpl);
  node = reply.body.value("node", Json());
  EXPECT_EQ(node["phase"], "Failed") << reply.raw;
  EXPECT_NE(message(node).find("destination not allowed (error 7)"), std::string::npos)
      << message(node);
  EXPECT_NE(message(node).find("is not in permissions.http.allowed_hosts"), std::string::npos)
      << message(node);
}
