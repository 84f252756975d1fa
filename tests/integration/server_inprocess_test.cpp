// The HTTP server in-process with a fake step runner: protocol handling and back-pressure that
// need precise control over what runs when (pipelining, half-sent requests, the body budget,
// the waiting-call cap, the end of the shutdown grace period).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include <sys/socket.h>

#include "plugin_process.hpp"
#include "raw_http.hpp"
#include "server/plugin_server.hpp"

using namespace wwp;
using namespace wwp::server;
using namespace wwp::testing;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kToken = "in-process-token";
const std::string kAuth = "Authorization: Bearer " + std::string(kToken) + "\r\n";

// A step body for workflow `uid`; each uid is a different step.
std::string step_body(const std::string& uid) {
  Json body = {
      {"workflow", {{"metadata", {{"name", "wf"}, {"uid", uid}}}}},
      {"template", {{"name", "s"}, {"plugin", {{"wasm", {{"module", {{"path", "x"}}}}}}}}}};
  return body.dump();
}

// Lets a test hold steps until it releases them.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;
  int started = 0;

  void release() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }
  void wait_open() {
    std::unique_lock lock(mutex);
    ++started;
    changed.notify_all();
    changed.wait(lock, [this] { return open; });
  }
  void wait_started(int count) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return started >= count; });
  }
};

class Served {
 public:
  Served(ServerSettings settings, StepRunner runner) {
    dir_ = fresh_temp_dir("inproc" + std::to_string(counter_++));
    std::ofstream(dir_ / "token") << kToken << "\n";
    settings.bind = "127.0.0.1";
    settings.port = 0;
    server_ = std::make_unique<PluginServer>(
        std::move(settings), *BearerAuth::from_file(dir_ / "token"), std::move(runner));
    auto bound = server_->bind();
    if (!bound) throw std::runtime_error(bound.error().message);
    serving_ = std::thread([this] { served_ = server_->serve().ok(); });
  }
  ~Served() {
    server_->shutdown();
    serving_.join();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  PluginServer& server() { return *server_; }
  int port() const { return server_->port(); }
  bool served() const { return served_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<PluginServer> server_;
  std::thread serving_;
  std::atomic<bool> served_{false};
};

Result<model::NodeResult> succeed(const model::ExecuteRequest&, BoundedAttempt*) {
  model::NodeResult node;
  node.phase = model::Phase::Succeeded;
  node.message = "done";
  return node;
}

ServerSettings quick_settings() {
  ServerSettings s;
  s.shutdown_grace = 0s;
  s.http_threads = 4;
  s.max_waiting_calls = 2;
  return s;
}

}  // namespace

TEST(HttpServer, PipelinedRequestsAreAllAnsweredInOrder) {
  Served served(quick_settings(), succeed);
  RawConnection conn(served.port());
  ASSERT_TRUE(conn.connected());
  // Four requests in one write, one of them refused before its body (which must be skipped).
  ASSERT_TRUE(conn.send(http_request("GET", "/healthz") +
                        http_request("POST", "/api/v1/template.execute", "", "not-json") +
                        http_request("POST", "/api/v1/template.execute", kAuth, step_body("p")) +
                        http_request("GET", "/readyz")));
  auto health = conn.read_reply();
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  auto refused = conn.read_reply();
  EXPECT_EQ(refused.status, 403);
  auto executed = conn.read_reply();
  EXPECT_EQ(executed.status, 200) << executed.body;
  EXPECT_EQ(Json::parse(executed.body)["node"]["phase"], "Succeeded");
  auto ready = conn.read_reply();
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
}

TEST(HttpServer, TheTokenIsCheckedBeforeTheBodyIsRead) {
  Served served(quick_settings(), succeed);
  RawConnection conn(served.port());
  // 10 MiB announced, not one byte sent: the answer comes anyway.
  ASSERT_TRUE(conn.send(http_request("POST", "/api/v1/template.execute",
                                     "Authorization: Bearer wrong\r\n", "", 10 << 20)));
  auto reply = conn.read_reply();
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(reply.body, "invalid or missing bearer token\n");
  EXPECT_EQ(served.server().waiting_calls(), 0u);
}

TEST(HttpServer, ExpectContinueIsHonoured) {
  Served served(quick_settings(), succeed);
  {
    // Refused before the body: the client will not send it, so the connection ends.
    RawConnection conn(served.port());
    conn.send(
        http_request("POST", "/api/v1/template.execute", "Expect: 100-continue\r\n", "", 1000));
    const std::string answer = conn.read_until_closed();
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 403 Forbidden\r\n")) << answer;
  }
  {
    RawConnection conn(served.port());
    const std::string body = step_body("continue");
    conn.send(http_request("POST", "/api/v1/template.execute", kAuth + "Expect: 100-continue\r\n",
                           "", body.size()));
    const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
    std::string received(interim.size(), '\0');
    ASSERT_EQ(::recv(conn.fd(), received.data(), received.size(), MSG_WAITALL),
              static_cast<ssize_t>(received.size()));
    EXPECT_EQ(received, interim);
    conn.send(body);
    EXPECT_EQ(conn.read_reply().status, 200);
  }
}

TEST(HttpServer, BodiesInFlightShareOneMemoryBudget) {
  ServerSettings settings = quick_settings();
  settings.body_budget_bytes = 1 << 20;
  Served served(settings, succeed);
  const std::string body = step_body("budget");
  const std::string padded = body + std::string((700 << 10) - body.size(), ' ');
  // A holds 700 KiB of the 1 MiB budget while its body is still on the way.
  RawConnection a(served.port());
  const std::string request = http_request("POST", "/api/v1/template.execute", kAuth, padded);
  ASSERT_TRUE(a.send(std::string_view(request).substr(0, request.size() - 1000)));
  {
    // A probe's round trip: the poll thread has taken A's headers by then.
    RawConnection probe(served.port());
    probe.send(http_request("GET", "/healthz"));
    ASSERT_EQ(probe.read_reply().status, 200);
  }
  RawConnection b(served.port());
  ASSERT_TRUE(b.send(http_request("POST", "/api/v1/template.execute", kAuth, padded)));
  auto refused = b.read_reply();
  EXPECT_EQ(refused.status, 503);
  EXPECT_NE(refused.body.find("retry later"), std::string::npos) << refused.body;
  // B's connection stays usable: its body was skipped.
  ASSERT_TRUE(b.send(http_request("GET", "/healthz")));
  EXPECT_EQ(b.read_reply().status, 200);
  // A completes and is handled; afterwards the budget is free again.
  ASSERT_TRUE(a.send(std::string_view(request).substr(request.size() - 1000)));
  auto done = a.read_reply();
  EXPECT_EQ(done.status, 200) << done.body;
  ASSERT_TRUE(b.send(http_request("POST", "/api/v1/template.execute", kAuth, padded)));
  EXPECT_EQ(b.read_reply().status, 200);
}

TEST(HttpServer, RefusesOversizedAndMalformedRequests) {
  ServerSettings settings = quick_settings();
  settings.max_body_bytes = 1000;
  Served served(settings, succeed);
  {
    RawConnection conn(served.port());
    conn.send(http_request("POST", "/api/v1/template.execute", kAuth, "", 5000));
    EXPECT_EQ(conn.read_reply().status, 413);
  }
  {
    RawConnection conn(served.port());
    conn.send("POST /api/v1/template.execute HTTP/1.1\r\n" + kAuth +
              "Transfer-Encoding: chunked\r\n\r\n");
    EXPECT_EQ(conn.read_reply().status, 411);
  }
  {
    // A request line libmicrohttpd cannot parse at all is closed without an answer; a malformed
    // header line is answered 400. Either way nothing reaches a route.
    RawConnection conn(served.port());
    conn.send("GARBAGE\r\n\r\n");
    EXPECT_NE(conn.read_reply().status, 200);
  }
  {
    RawConnection conn(served.port());
    conn.send("GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n");
    EXPECT_EQ(conn.read_reply().status, 400);
  }
  {
    RawConnection conn(served.port());
    conn.send("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    EXPECT_EQ(conn.read_reply().status, 431);
  }
  {
    RawConnection conn(served.port());
    conn.send(http_request("GET", "/nowhere"));
    EXPECT_EQ(conn.read_reply().status, 404);
    conn.send(http_request("GET", "/api/v1/template.execute"));
    EXPECT_EQ(conn.read_reply().status, 404);
  }
}

TEST(HttpServer, SlowHeadersAreCutOffWithoutTakingAThread) {
  ServerSettings settings = quick_settings();
  settings.header_timeout = 300ms;
  settings.http_threads = 1;
  Served served(settings, succeed);
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 50; ++i) {
    slow.push_back(std::make_unique<RawConnection>(served.port()));
    ASSERT_TRUE(slow.back()->send("POST /api/v1/template.execute HTTP/1.1\r\nX-Slow: a"));
  }
  // With one worker and fifty stalled clients, a step still gets through.
  RawConnection conn(served.port());
  conn.send(http_request("POST", "/api/v1/template.execute", kAuth, step_body("through")));
  EXPECT_EQ(conn.read_reply().status, 200);
  // The stalled ones are told why and closed.
  EXPECT_NE(slow.front()->read_until_closed().find("408 Request Timeout"), std::string::npos);
}

TEST(HttpServer, WaitingCallsAreCappedAndTheRestAnsweredRunningAtOnce) {
  ServerSettings settings = quick_settings();
  settings.max_waiting_calls = 1;
  settings.requeue_wait = 10min;  // without the cap, the second call would wait this long
  settings.max_concurrency = 2;
  auto gate = std::make_shared<Gate>();
  settings.on_grace_expired = [gate] { gate->release(); };
  Served served(settings, [gate](const model::ExecuteRequest&, BoundedAttempt*) {
    gate->wait_open();
    return succeed(model::ExecuteRequest{}, nullptr);
  });
  RawConnection first(served.port());
  first.send(http_request("POST", "/api/v1/template.execute", kAuth, step_body("first")));
  gate->wait_started(1);
  while (served.server().waiting_calls() < 1) std::this_thread::sleep_for(1ms);
  RawConnection second(served.port());
  second.send(http_request("POST", "/api/v1/template.execute", kAuth, step_body("second")));
  auto running = second.read_reply();
  ASSERT_EQ(running.status, 200) << running.body;
  EXPECT_EQ(Json::parse(running.body)["node"]["phase"], "Running");
  EXPECT_EQ(Json::parse(running.body)["requeue"], "5s");
  gate->release();
  EXPECT_EQ(Json::parse(first.read_reply().body)["node"]["phase"], "Succeeded");
}

TEST(HttpServer, AfterTheGracePeriodRunningStepsAreInterruptedAndQueuedOnesNeverStart) {
  ServerSettings settings = quick_settings();
  settings.max_concurrency = 1;
  settings.requeue_wait = 10min;
  std::atomic<int> runs{0};
  std::atomic<bool> interrupted{false};
  auto gate = std::make_shared<Gate>();
  settings.on_grace_expired = [&] {
    interrupted = true;
    gate->release();
  };
  auto served = std::make_unique<Served>(
      settings,
      [&, gate](const model::ExecuteRequest&, BoundedAttempt*) -> Result<model::NodeResult> {
        ++runs;
        gate->wait_open();
        if (interrupted) return transient("stopped: the plugin is shutting down");
        return succeed(model::ExecuteRequest{}, nullptr);
      });
  RawConnection running(served->port());
  running.send(http_request("POST", "/api/v1/template.execute", kAuth, step_body("running")));
  gate->wait_started(1);
  RawConnection queued(served->port());
  queued.send(http_request("POST", "/api/v1/template.execute", kAuth, step_body("queued")));
  while (served->server().waiting_calls() < 2) std::this_thread::sleep_for(1ms);
  served.reset();  // shutdown() with a grace period of 0s
  auto interrupted_reply = running.read_reply();
  EXPECT_EQ(interrupted_reply.status, 503);
  EXPECT_NE(interrupted_reply.body.find("shutting down"), std::string::npos);
  auto queued_reply = queued.read_reply();
  EXPECT_EQ(queued_reply.status, 503);
  EXPECT_NE(queued_reply.body.find("was not started"), std::string::npos) << queued_reply.body;
  EXPECT_EQ(runs, 1);
}

TEST(HttpServer, HealthPortAnswersOnlyProbes) {
  ServerSettings settings = quick_settings();
  settings.health_port = 0;
  Served served(settings, succeed);
  ASSERT_GT(served.server().health_port(), 0);
  RawConnection conn(served.server().health_port());
  conn.send(http_request("GET", "/healthz") + http_request("GET", "/readyz") +
            http_request("POST", "/api/v1/template.execute", kAuth, step_body("h")));
  EXPECT_EQ(conn.read_reply().status, 200);
  EXPECT_EQ(conn.read_reply().status, 200);
  EXPECT_EQ(conn.read_reply().status, 404);
}

TEST(HttpServer, BindingAnOccupiedPortFailsCleanly) {
  ServerSettings settings = quick_settings();
  Served first(settings, succeed);
  settings.port = first.port();
  PluginServer second(settings, BearerAuth::disabled(), succeed);
  // `Served` picks port 0; bind the same port explicitly.
  auto bound = second.bind();
  ASSERT_FALSE(bound.ok());
  EXPECT_NE(
      bound.error().message.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
      std::string::npos)
      << bound.error().message;
}

// On an idle plugin, a step of a module whose last step was quick runs on the event thread as a
// bounded attempt; an attempt that gives up runs again on a worker, whose result is the answer,
// and the template of another plugin is answered there too.
TEST(HttpServer, QuickStepsRunOnTheEventThreadAndAnAttemptGivenUpRunsAgainOnAWorker) {
  ServerSettings settings = quick_settings();
  settings.run_inline_below = 50ms;
  std::mutex mutex;
  std::vector<std::string> runs;  // "attempt" or "worker", per call of the runner
  std::atomic<bool> give_up{false};
  Served served(
      settings,
      [&](const model::ExecuteRequest&, BoundedAttempt* attempt) -> Result<model::NodeResult> {
        {
          std::lock_guard lock(mutex);
          runs.push_back(attempt ? "attempt" : "worker");
        }
        if (attempt && give_up) {
          attempt->gave_up = true;
          return transient("gave up");
        }
        return succeed(model::ExecuteRequest{}, nullptr);
      });
  RawConnection conn(served.port());
  auto execute = [&](const std::string& body) {
    EXPECT_TRUE(conn.send(http_request("POST", "/api/v1/template.execute", kAuth, body)));
    return conn.read_reply();
  };
  // The module's first step has no duration on record: a worker runs it. The next ones are quick.
  for (const std::string uid : {"q1", "q2", "q3"}) {
    auto reply = execute(step_body(uid));
    ASSERT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(Json::parse(reply.body)["node"]["phase"], "Succeeded");
  }
  give_up = true;
  auto moved = execute(step_body("q4"));
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(Json::parse(moved.body)["node"]["phase"], "Succeeded");
  // A step that could reach beyond its sandbox (here: one allowed outbound HTTP) is never
  // attempted there, although its module is quick.
  give_up = false;
  Json capable = Json::parse(step_body("u1"));
  capable["template"]["plugin"]["wasm"]["permissions"] = {
      {"http", {{"allowed_hosts", {"example.com"}}}}};
  auto remote = execute(capable.dump());
  ASSERT_EQ(remote.status, 200) << remote.body;
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(runs, (std::vector<std::string>{"worker", "attempt", "attempt", "attempt", "worker",
                                              "worker"}));
  }
  Json other = Json::parse(step_body("o1"));
  other["template"]["plugin"] = {{"other-plugin", Json::object()}};
  auto not_ours = execute(other.dump());
  EXPECT_EQ(not_ours.status, 200);
  EXPECT_EQ(not_ours.body, "{}");
}
