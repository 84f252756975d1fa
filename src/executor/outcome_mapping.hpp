// Maps what a module did (RunOutcome, optional result.json) to Argo's NodeResult: phase, message,
// result (stdout) and exitCode, the way Argo reports script templates.
#pragma once

#include <optional>
#include <string>

#include "model/legacy_abi.hpp"
#include "model/node_result.hpp"
#include "sandbox/run.hpp"

namespace wwp::executor {

// The last lines of stderr, for failure messages: what a user looks at first.
std::string stderr_tail(const std::string& stderr_data, std::size_t max_lines = 10,
                        std::size_t max_bytes = 2048);

// `report` is the parsed result.json if the module wrote one. `memory_limit` lets the message
// say when a failure coincides with linear memory reaching its limit.
model::NodeResult map_outcome(const sandbox::RunOutcome& outcome,
                              const std::optional<model::ModuleReport>& report,
                              std::uint64_t memory_limit);

}  // namespace wwp::executor
