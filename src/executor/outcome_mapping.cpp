#include "executor/outcome_mapping.hpp"

#include "common/units.hpp"

namespace wwp::executor {

std::string stderr_tail(const std::string& stderr_data, std::size_t max_lines,
                        std::size_t max_bytes) {
  std::string_view text = stderr_data;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.remove_suffix(1);
  std::size_t start = text.size();
  std::size_t lines = 0;
  while (start > 0) {
    const auto nl = text.rfind('\n', start - 1);
    if (nl == std::string_view::npos) {
      start = 0;
      break;
    }
    if (++lines == max_lines) {
      start = nl + 1;
      break;
    }
    start = nl;
  }
  std::string_view tail = text.substr(start);
  if (tail.size() > max_bytes) tail = tail.substr(tail.size() - max_bytes);
  return std::string(tail);
}

namespace {

model::NodeResult map_end(const sandbox::RunOutcome& outcome,
                          const std::optional<model::ModuleReport>& report,
                          std::uint64_t memory_limit) {
  model::NodeResult node;
  std::string stdout_data = outcome.stdout_data;
  // Argo trims a single trailing newline from a script's stdout "for user convenience".
  if (!stdout_data.empty() && stdout_data.back() == '\n') stdout_data.pop_back();
  node.outputs.result = std::move(stdout_data);

  // However the module reacted to the refused growth (most exit with some code), the limit is
  // why the step failed.
  auto with_memory_hint = [&](std::string message) {
    if (outcome.memory_refused) {
      message += " (memory limit " + format_quantity(memory_limit) +
                 " reached: the module asked for more memory and was refused)";
    }
    return message;
  };
  auto with_stderr = [&](std::string message) {
    std::string tail = stderr_tail(outcome.stderr_data);
    if (!tail.empty()) message += ": " + tail;
    return message;
  };

  switch (outcome.end) {
    case sandbox::RunOutcome::End::TimedOut:
    case sandbox::RunOutcome::End::OutputLimit:
    case sandbox::RunOutcome::End::Stopped:
    case sandbox::RunOutcome::End::GaveUp:  // the executor discards such runs before mapping
      node.phase = model::Phase::Failed;
      node.message = outcome.message;
      return node;
    case sandbox::RunOutcome::End::Trapped:
      node.phase = model::Phase::Failed;
      node.message = with_memory_hint("module trapped: " + outcome.message);
      return node;
    case sandbox::RunOutcome::End::Exited:
      break;
  }
  node.outputs.exit_code = outcome.exit_code;
  if (outcome.exit_code != 0) {
    node.phase = model::Phase::Failed;
    std::string message = with_memory_hint("exit code " + std::to_string(outcome.exit_code));
    if (report && !report->message.empty()) message += ": " + report->message;
    node.message = with_stderr(std::move(message));
    return node;
  }
  if (report) {
    node.phase = report->phase;
    node.message = report->message;
    for (const auto& p : report->parameters) node.outputs.parameters.push_back(p);
  } else {
    node.phase = model::Phase::Succeeded;
  }
  return node;
}

}  // namespace

model::NodeResult map_outcome(const sandbox::RunOutcome& outcome,
                              const std::optional<model::ModuleReport>& report,
                              std::uint64_t memory_limit) {
  model::NodeResult node = map_end(outcome, report, memory_limit);
  // The module only saw an error code; the message says what the host refused and why.
  for (const auto& note : outcome.notes) {
    if (!node.message.empty()) node.message += "; ";
    node.message += note;
  }
  return node;
}

}  // namespace wwp::executor
