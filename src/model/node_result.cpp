#include "model/node_result.hpp"

#include "common/units.hpp"

namespace wwp::model {

std::string_view to_string(Phase phase) {
  switch (phase) {
    case Phase::Pending:
      return "Pending";
    case Phase::Running:
      return "Running";
    case Phase::Succeeded:
      return "Succeeded";
    case Phase::Failed:
      return "Failed";
    case Phase::Error:
      return "Error";
  }
  return "Error";
}

std::optional<Phase> parse_phase(std::string_view text) {
  for (Phase phase :
       {Phase::Pending, Phase::Running, Phase::Succeeded, Phase::Failed, Phase::Error}) {
    if (to_string(phase) == text) return phase;
  }
  return std::nullopt;
}

Json to_json(const NodeResult& node) {
  Json json = {{"phase", to_string(node.phase)}};
  if (!node.message.empty()) json["message"] = node.message;
  if (!node.progress.empty()) json["progress"] = node.progress;
  if (!node.outputs.empty()) {
    Json outputs = Json::object();
    if (!node.outputs.parameters.empty()) {
      Json params = Json::array();
      for (const auto& p : node.outputs.parameters)
        params.push_back({{"name", p.name}, {"value", p.value}});
      outputs["parameters"] = std::move(params);
    }
    if (!node.outputs.artifacts.empty()) {
      Json artifacts = Json::array();
      for (const auto& a : node.outputs.artifacts) artifacts.push_back(to_json(a));
      outputs["artifacts"] = std::move(artifacts);
    }
    if (node.outputs.result) outputs["result"] = *node.outputs.result;
    if (node.outputs.exit_code) outputs["exitCode"] = std::to_string(*node.outputs.exit_code);
    json["outputs"] = std::move(outputs);
  }
  return json;
}

Json to_json(const ExecuteReply& reply) {
  Json json = {{"node", to_json(reply.node)}};
  if (reply.requeue) json["requeue"] = format_duration(*reply.requeue);
  return json;
}

std::string to_text(const ExecuteReply& reply) {
  return to_json(reply).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace wwp::model
