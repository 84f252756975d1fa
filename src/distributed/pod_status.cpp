#include "distributed/pod_status.hpp"

#include <set>
#include <sstream>

#include "model/artifact.hpp"

namespace wwp::distributed {

namespace {

using model::Json;

std::string str(const Json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
  return object[key].get<std::string>();
}

// The node of a {"node": ...} reply, as the plugin's own serialisation wrote it.
std::optional<model::NodeResult> parse_reply(const Json& reply) {
  if (!reply.is_object() || !reply.contains("node") || !reply["node"].is_object())
    return std::nullopt;
  const Json& node = reply["node"];
  auto phase = model::parse_phase(str(node, "phase"));
  if (!phase) return std::nullopt;
  model::NodeResult result;
  result.phase = *phase;
  result.message = str(node, "message");
  result.progress = str(node, "progress");
  if (node.contains("outputs") && node["outputs"].is_object()) {
    const Json& outputs = node["outputs"];
    if (outputs.contains("parameters") && outputs["parameters"].is_array()) {
      for (const auto& p : outputs["parameters"])
        result.outputs.parameters.push_back({str(p, "name"), str(p, "value")});
    }
    if (outputs.contains("artifacts") && outputs["artifacts"].is_array()) {
      for (const auto& a : outputs["artifacts"]) {
        auto artifact = model::parse_artifact(a, "outputs.artifacts");
        if (!artifact) return std::nullopt;
        result.outputs.artifacts.push_back(std::move(*artifact));
      }
    }
    if (outputs.contains("result") && outputs["result"].is_string())
      result.outputs.result = outputs["result"].get<std::string>();
    if (auto code = str(outputs, "exitCode"); !code.empty()) {
      try {
        result.outputs.exit_code = std::stoi(code);
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return result;
}

model::NodeResult failed_node(std::string message) {
  model::NodeResult node;
  node.phase = model::Phase::Failed;
  node.message = std::move(message);
  return node;
}

// Waiting reasons that no amount of waiting cures.
const std::set<std::string>& permanent_waiting_reasons() {
  static const std::set<std::string> reasons = {"ErrImageNeverPull", "InvalidImageName",
                                                "CreateContainerConfigError"};
  return reasons;
}

}  // namespace

std::optional<model::NodeResult> parse_run_output(const std::string& text) {
  std::optional<model::NodeResult> last;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() != '{') continue;
    auto json = Json::parse(line, nullptr, false);
    if (json.is_discarded()) continue;
    if (auto node = parse_reply(json)) last = std::move(node);
  }
  return last;
}

PodProgress classify_pod(const Json& pod, std::chrono::milliseconds starting_for,
                         std::chrono::milliseconds start_timeout) {
  PodProgress progress;
  const Json status = pod.value("status", Json::object());
  const std::string phase = str(status, "phase");
  const Json containers = status.value("containerStatuses", Json::array());
  const Json* container = nullptr;
  for (const auto& c : containers)
    if (str(c, "name") == "step") container = &c;

  const Json state =
      container != nullptr ? container->value("state", Json::object()) : Json::object();
  if (state.contains("terminated")) {
    const Json& t = state["terminated"];
    progress.state = PodProgress::State::Finished;
    const std::string message = str(t, "message");
    if (auto node = parse_run_output(message)) {
      progress.result = std::move(node);
      return progress;
    }
    const std::string reason = str(t, "reason");
    const int exit_code = t.value("exitCode", -1);
    if (reason == "OOMKilled") {
      progress.result = failed_node(
          "the step's pod ran out of memory (OOMKilled): raise plugin.wasm.limits.memory or "
          "--pod-memory-overhead");
      return progress;
    }
    // `run` exits 0 (Succeeded) or 1 (Failed) after writing its result; anything else, or a
    // result too big for the termination message, is looked for in the log.
    progress.result_in_log = true;
    progress.message = "the step's container ended (" + (reason.empty() ? "exit" : reason) +
                       ", exit code " + std::to_string(exit_code) + ") without a node result";
    return progress;
  }
  if (phase == "Failed" || phase == "Succeeded") {
    const std::string reason = str(status, "reason");
    if (reason == "DeadlineExceeded") {
      progress.state = PodProgress::State::Failed;
      progress.message =
          "the step's pod passed its activeDeadlineSeconds (the step's timeout plus the pod's "
          "start-up allowance)";
      return progress;
    }
    progress.state = PodProgress::State::Failed;
    progress.message = "the step's pod " + phase + (reason.empty() ? "" : " (" + reason + ")") +
                       (str(status, "message").empty() ? "" : ": " + str(status, "message"));
    return progress;
  }
  if (state.contains("running")) {
    progress.state = PodProgress::State::Running;
    return progress;
  }
  // Not started: why?
  std::string why;
  bool permanent = false;
  if (state.contains("waiting")) {
    const std::string reason = str(state["waiting"], "reason");
    why = reason +
          (str(state["waiting"], "message").empty() ? "" : ": " + str(state["waiting"], "message"));
    permanent = permanent_waiting_reasons().count(reason) != 0;
  }
  for (const auto& c : status.value("conditions", Json::array())) {
    if (str(c, "type") == "PodScheduled" && str(c, "status") == "False") {
      why = "not scheduled (" + str(c, "reason") + "): " + str(c, "message");
    }
  }
  progress.state = PodProgress::State::Starting;
  progress.message = why;
  if (permanent || starting_for >= start_timeout) {
    if (why.empty()) why = "Kubernetes gave no reason (phase " + phase + ")";
    progress.state = PodProgress::State::Failed;
    progress.message = "the step's pod did not start" +
                       (permanent ? std::string() : " within --pod-start-timeout") + ": " + why;
  }
  return progress;
}

}  // namespace wwp::distributed
