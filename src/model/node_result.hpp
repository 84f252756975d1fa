// What we answer the agent: Argo's NodeResult (phase, message, outputs, progress) and the
// optional requeue delay of the ExecuteTemplateReply.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "model/artifact.hpp"
#include "model/json_fields.hpp"

namespace wwp::model {

enum class Phase { Pending, Running, Succeeded, Failed, Error };

std::string_view to_string(Phase phase);
std::optional<Phase> parse_phase(std::string_view text);

struct OutputParameter {
  std::string name;
  std::string value;
};

struct Outputs {
  std::vector<OutputParameter> parameters;
  std::vector<Artifact> artifacts;
  std::optional<std::string> result;  // stdout, as for Argo script templates
  std::optional<int> exit_code;       // Argo carries exitCode as a string

  bool empty() const { return parameters.empty() && artifacts.empty() && !result && !exit_code; }
};

struct NodeResult {
  Phase phase = Phase::Succeeded;
  std::string message;
  Outputs outputs;
  std::string progress;  // "N/M"; empty when not reported
};

struct ExecuteReply {
  NodeResult node;
  std::optional<std::chrono::milliseconds> requeue;
};

Json to_json(const NodeResult& node);
// The body of a `template.execute` reply: {"node": {...}, "requeue": "5s"}.
Json to_json(const ExecuteReply& reply);
// The reply as the agent reads it. A module's output that is not valid UTF-8 (binary, or a
// multi-byte character cut by a limit) has its bad bytes replaced by U+FFFD: JSON cannot carry
// them, and the step's result must not turn into an error of ours.
std::string to_text(const ExecuteReply& reply);

}  // namespace wwp::model
