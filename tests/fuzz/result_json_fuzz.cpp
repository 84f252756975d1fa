// result.json as a module of the earlier ABI writes it: untrusted module output, mapped into the
// reply to the agent.
#include "fuzz_check.hpp"
#include "model/legacy_abi.hpp"
#include "model/node_result.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wwp::model;
  auto report = parse_module_report(wwp::fuzz::as_text(data, size));
  if (!report) {
    WWP_FUZZ_CHECK(!report.error().message.empty(), "an error without a message");
    return 0;
  }
  NodeResult node{.phase = report->phase, .message = report->message};
  node.outputs.parameters = report->parameters;
  node.outputs.artifacts = report->artifacts;
  (void)to_json(ExecuteReply{.node = node}).dump();
  return 0;
}
