#include <gtest/gtest.h>

#include "executor/outcome_mapping.hpp"

using namespace wwp;
using namespace wwp::executor;
using End = sandbox::RunOutcome::End;

TEST(StderrTail, KeepsTheLastLines) {
  EXPECT_EQ(stderr_tail("a\nb\nc\n", 2), "b\nc");
  EXPECT_EQ(stderr_tail("a\nb\nc", 10), "a\nb\nc");
  EXPECT_EQ(stderr_tail("", 10), "");
  EXPECT_EQ(stderr_tail(std::string(5000, 'x'), 10, 100).size(), 100u);
}

TEST(MapOutcome, ExitZeroSucceedsWithResultAndExitCode) {
  sandbox::RunOutcome outcome;
  outcome.stdout_data = "hello\n";
  auto node = map_outcome(outcome, std::nullopt, 0);
  EXPECT_EQ(node.phase, model::Phase::Succeeded);
  EXPECT_EQ(*node.outputs.result, "hello");  // one trailing newline trimmed, as Argo does
  EXPECT_EQ(*node.outputs.exit_code, 0);
}

TEST(MapOutcome, NonZeroExitFailsWithStderrTail) {
  sandbox::RunOutcome outcome;
  outcome.exit_code = 3;
  outcome.stderr_data = "first\nerror: bad input\n";
  auto node = map_outcome(outcome, std::nullopt, 0);
  EXPECT_EQ(node.phase, model::Phase::Failed);
  EXPECT_EQ(node.message, "exit code 3: first\nerror: bad input");
  EXPECT_EQ(*node.outputs.exit_code, 3);
}

TEST(MapOutcome, LimitsNameThemselves) {
  sandbox::RunOutcome outcome;
  outcome.end = End::TimedOut;
  outcome.message = "timeout 1s exceeded";
  EXPECT_EQ(map_outcome(outcome, std::nullopt, 0).message, "timeout 1s exceeded");
  outcome.end = End::Trapped;
  outcome.message = "wasm trap: unreachable";
  outcome.memory_bytes = 32 << 20;
  // Memory at the limit is no reason by itself; a refused growth is.
  EXPECT_EQ(map_outcome(outcome, std::nullopt, 32 << 20).message,
            "module trapped: wasm trap: unreachable");
  outcome.memory_refused = true;
  auto node = map_outcome(outcome, std::nullopt, 32 << 20);
  EXPECT_EQ(node.message,
            "module trapped: wasm trap: unreachable (memory limit 32Mi reached: the module asked "
            "for more memory and was refused)");
  EXPECT_FALSE(node.outputs.exit_code.has_value());
}

TEST(MapOutcome, ReportDecidesPhaseAndMessage) {
  sandbox::RunOutcome outcome;
  model::ModuleReport report;
  report.phase = model::Phase::Failed;
  report.message = "asked to fail";
  report.parameters.push_back({"a", "1"});
  auto node = map_outcome(outcome, report, 0);
  EXPECT_EQ(node.phase, model::Phase::Failed);
  EXPECT_EQ(node.message, "asked to fail");
  ASSERT_EQ(node.outputs.parameters.size(), 1u);
}
