#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "server/bearer_auth.hpp"
#include "server/step_durations.hpp"
#include "server/step_tracker.hpp"
#include "server/work_queue.hpp"

using namespace wwp;
using namespace wwp::server;
using namespace std::chrono_literals;

TEST(BearerAuth, ComparesTheWholeToken) {
  auto path = std::filesystem::temp_directory_path() / ("wwp-token-" + std::to_string(::getpid()));
  std::ofstream(path) << "s3cret\n";
  auto auth = BearerAuth::from_file(path);
  ASSERT_TRUE(auth.ok());
  EXPECT_TRUE(auth->allows("Bearer s3cret"));
  EXPECT_FALSE(auth->allows("Bearer s3cre"));
  EXPECT_FALSE(auth->allows("Bearer s3cretX"));
  EXPECT_FALSE(auth->allows("s3cret"));
  EXPECT_FALSE(auth->allows(""));
  std::filesystem::remove(path);
  EXPECT_FALSE(BearerAuth::from_file(path).ok());
  EXPECT_TRUE(BearerAuth::disabled().allows(""));
}

TEST(WorkQueue, RefusesWhenFullAndDrains) {
  WorkQueue queue(1, 1);
  std::atomic<bool> release{false};
  std::atomic<int> done{0};
  auto blocker = [&] {
    while (!release) std::this_thread::sleep_for(1ms);
    ++done;
  };
  ASSERT_TRUE(queue.submit(blocker));
  while (queue.running() == 0) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(queue.submit([&] { ++done; }));   // waits in the queue
  EXPECT_FALSE(queue.submit([&] { ++done; }));  // queue full
  release = true;
  EXPECT_TRUE(queue.drain(std::chrono::steady_clock::now() + 5s));
  EXPECT_EQ(done, 2);
  EXPECT_FALSE(queue.submit([] {}));  // closed
}

TEST(WorkQueue, RunHereOnlyWhenIdle) {
  WorkQueue queue(2, 4);
  int ran_here = 0;
  EXPECT_TRUE(queue.run_here([&] {
    ++ran_here;
    // While it runs here, it holds a worker's place.
    EXPECT_EQ(queue.running(), 1u);
  }));
  EXPECT_EQ(ran_here, 1);
  std::atomic<bool> release{false};
  std::atomic<int> done{0};
  ASSERT_TRUE(queue.submit([&] {
    while (!release) std::this_thread::sleep_for(1ms);
    ++done;
  }));
  while (queue.running() == 0) std::this_thread::sleep_for(1ms);
  // One of two places is busy: not idle, so hand it off (a worker is free to take it).
  EXPECT_FALSE(queue.run_here([&] { ++ran_here; }));
  EXPECT_EQ(ran_here, 1);
  release = true;
  EXPECT_TRUE(queue.drain(std::chrono::steady_clock::now() + 5s));
  EXPECT_EQ(done, 1);
  EXPECT_FALSE(queue.run_here([&] { ++ran_here; }));  // closed
}

TEST(WorkQueue, AJobQueuedDuringARunHereStartsWhenItEnds) {
  WorkQueue queue(1, 4);
  std::atomic<bool> queued_ran{false};
  EXPECT_TRUE(queue.run_here([&] {
    ASSERT_TRUE(queue.submit([&] { queued_ran = true; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_FALSE(queued_ran);  // at most one job at a time with one worker
  }));
  EXPECT_TRUE(queue.drain(std::chrono::steady_clock::now() + 5s));
  EXPECT_TRUE(queued_ran);
}

// A result published in `then` finds the worker's place free again: the agent's next call, which
// may come at once, sees an idle plugin. drain() waits for `then` too.
TEST(WorkQueue, ThenRunsAfterTheJobGaveItsPlaceBack) {
  WorkQueue queue(1, 4);
  std::atomic<bool> idle_in_then{false};
  std::atomic<bool> then_done{false};
  ASSERT_TRUE(queue.submit([] {},
                           [&] {
                             idle_in_then = queue.idle();
                             std::this_thread::sleep_for(20ms);
                             then_done = true;
                           }));
  EXPECT_TRUE(queue.drain(std::chrono::steady_clock::now() + 5s));
  EXPECT_TRUE(then_done);
  EXPECT_TRUE(idle_in_then);
}

TEST(StepDurations, RemembersTheLastStepOfEachModule) {
  StepDurations durations(2);
  EXPECT_FALSE(durations.last("a.wasm"));
  durations.record("a.wasm", 5ms);
  durations.record("a.wasm", 7ms);
  EXPECT_EQ(durations.last("a.wasm"), std::chrono::steady_clock::duration(7ms));
  durations.record("b.wasm", 1ms);
  durations.record("c.wasm", 2ms);  // over the bound: forgets the others
  EXPECT_FALSE(durations.last("a.wasm"));
  EXPECT_EQ(durations.last("c.wasm"), std::chrono::steady_clock::duration(2ms));
}

TEST(StepTracker, SameKeySameStepUntilForgotten) {
  StepTracker tracker(1s);
  bool created = false;
  auto a = tracker.find_or_start("k", created);
  EXPECT_TRUE(created);
  auto b = tracker.find_or_start("k", created);
  EXPECT_FALSE(created);
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a->wait_until(std::chrono::steady_clock::now() + 10ms).has_value());
  model::NodeResult node;
  node.message = "done";
  a->finish(node);
  auto result = b->wait_until(std::chrono::steady_clock::now());
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ((**result).message, "done");
  tracker.forget("k", a);
  tracker.find_or_start("k", created);
  EXPECT_TRUE(created);
}

TEST(StepTracker, ExpiresUncollectedResults) {
  StepTracker tracker(0s);
  bool created = false;
  auto step = tracker.find_or_start("k", created);
  tracker.find_or_start("running", created);
  step->finish(model::NodeResult{});
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(tracker.expire(), 1u);
  EXPECT_EQ(tracker.size(), 1u);  // the running one stays
}

TEST(StepTracker, AbandonWakesWaitersAndTheFirstResultStays) {
  StepTracker tracker(1min);
  bool created = false;
  auto running = tracker.find_or_start("running", created);
  auto done = tracker.find_or_start("done", created);
  model::NodeResult node;
  node.message = "finished";
  done->finish(node);
  std::optional<Result<model::NodeResult>> woken;
  std::thread waiter(
      [&] { woken = running->wait_until(std::chrono::steady_clock::now() + 10min); });
  tracker.abandon_unfinished(transient("shutting down"));
  waiter.join();
  ASSERT_TRUE(woken.has_value());
  ASSERT_FALSE(woken->ok());
  EXPECT_TRUE(woken->error().transient());
  running->finish(node);  // the step ending later changes nothing
  EXPECT_FALSE(running->wait_until(std::chrono::steady_clock::now())->ok());
  EXPECT_EQ((*done->wait_until(std::chrono::steady_clock::now()))->message, "finished");
  EXPECT_EQ(tracker.find("done"), done);
  EXPECT_EQ(tracker.find("missing"), nullptr);
}
