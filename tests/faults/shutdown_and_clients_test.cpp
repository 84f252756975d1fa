// SIGTERM with steps running and queued, and slow clients holding connections: the agent always
// gets an answer it can act on, and is served while others misbehave.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <memory>
#include <thread>

#include "fault_support.hpp"
#include "raw_http.hpp"

using namespace wwp::testing;
using namespace wwp::faults::test;
using namespace std::chrono_literals;

namespace {

// What an agent can act on: a finished step, Running (it asks again), or 503 / no connection
// (it retries). A Failed step for a step that was merely interrupted would be wrong.
bool retryable_or_done(const PluginProcess::Reply& reply, const std::string& expected_phase) {
  if (reply.status == 0 || reply.status == 503) return true;
  if (reply.status != 200) return false;
  const std::string phase = reply.body["node"].value("phase", "");
  return phase == "Running" || phase == expected_phase;
}

}  // namespace

TEST(Shutdown, StepsCutByTheGracePeriodGetARetryableAnswer) {
  PluginProcess plugin({"--shutdown-grace", "2s", "--requeue-wait", "30s", "--max-concurrency", "1",
                        "--max-timeout", "2000000h"});
  // Compiled before, so that the short step surely runs inside the grace period.
  ASSERT_EQ(plugin.execute(wasm_template("hello.wasm")).body["node"]["phase"], "Succeeded");
  ASSERT_EQ(plugin.execute(wasm_template("loop.wasm", {{"limits", {{"timeout", "1s"}}}}), "warm")
                .body["node"]["phase"],
            "Failed");
  const Json endless = wasm_template("loop.wasm", {{"limits", {{"timeout", "1000000h"}}}});
  PluginProcess::Reply running, queued;
  std::thread first([&] { running = plugin.execute(endless, "running"); });
  std::this_thread::sleep_for(500ms);
  std::thread second([&] { queued = plugin.execute(wasm_template("hello.wasm"), "queued"); });
  std::this_thread::sleep_for(500ms);
  const auto signalled = std::chrono::steady_clock::now();
  ::kill(plugin.pid(), SIGTERM);
  std::this_thread::sleep_for(200ms);
  // A step sent after SIGTERM is not taken on: the agent tries again (another pod).
  const auto late = plugin.execute(wasm_template("hello.wasm"), "late");
  EXPECT_TRUE(late.status == 503 || late.status == 0) << late.status << " " << late.raw;
  first.join();
  second.join();
  const auto answered = std::chrono::steady_clock::now() - signalled;
  EXPECT_LT(answered, 15s);  // the grace period (2 s) plus the interruption, not the step's hours
  EXPECT_TRUE(retryable_or_done(running, "never")) << running.status << " " << running.raw;
  EXPECT_TRUE(retryable_or_done(queued, "Succeeded")) << queued.status << " " << queued.raw;
  std::cout << "interrupted step: " << running.status << " " << running.raw << "\n"
            << "queued step: " << queued.status << " " << queued.raw << "\n";
  int status = 0;
  ASSERT_EQ(::waitpid(plugin.pid(), &status, 0), plugin.pid());
  EXPECT_TRUE(WIFEXITED(status)) << plugin.log();
}

TEST(SlowClients, TheAgentIsServedWhileSlowClientsHoldConnections) {
  PluginProcess plugin({"--http-threads", "4", "--header-timeout", "5m", "--body-timeout", "5m"});
  std::vector<std::unique_ptr<RawConnection>> idle, dribbling_bodies, strangers, not_reading;
  for (int i = 0; i < 100; ++i) {
    // Connected, saying nothing.
    idle.push_back(std::make_unique<RawConnection>(plugin.port(), 10));
    // Authenticated, dribbling a body they announced.
    dribbling_bodies.push_back(std::make_unique<RawConnection>(plugin.port(), 10));
    ASSERT_TRUE(dribbling_bodies.back()->send(
        "POST /api/v1/template.execute HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
        plugin.token() + "\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"));
    // Without the token, announcing a large body.
    strangers.push_back(std::make_unique<RawConnection>(plugin.port(), 10));
    ASSERT_TRUE(strangers.back()->send(
        "POST /api/v1/template.execute HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n{"));
  }
  // Clients that pipeline requests and never read the answers.
  for (int i = 0; i < 20; ++i) {
    not_reading.push_back(std::make_unique<RawConnection>(plugin.port(), 10));
    std::string burst;
    for (int j = 0; j < 50; ++j) burst += http_request("GET", "/healthz");
    not_reading.back()->send(burst);
  }
  for (int round = 0; round < 3; ++round) {
    for (auto& conn : dribbling_bodies) conn->send(" ");
    for (auto& conn : strangers) conn->send(" ");
    EXPECT_EQ(healthz(plugin.port()), 200);
    const TimedReply served =
        timed_execute(plugin, wasm_template("hello.wasm"), "round-" + std::to_string(round));
    EXPECT_EQ(served.reply.body["node"]["phase"], "Succeeded") << served.reply.raw;
    EXPECT_LT(served.took, 10s);
  }
  // The strangers were turned away before their bodies were read.
  int refused = 0;
  for (auto& conn : strangers) {
    if (conn->read_reply().status == 403) ++refused;
  }
  EXPECT_EQ(refused, 100);
}
