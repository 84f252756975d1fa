// The body of a `template.execute` call (from the agent, i.e. written by workflow authors) through
// the template parser, parameter substitution and the echo of artifacts back into a reply.
#include <string>

#include "fuzz_check.hpp"
#include "model/template.hpp"

namespace {
constexpr std::size_t kMaxExpansion = 64 * 1024;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wwp::model;
  auto request = parse_execute_body(wwp::fuzz::as_text(data, size));
  if (!request) {
    WWP_FUZZ_CHECK(!request.error().message.empty(), "an error without a message");
    return 0;
  }
  if (!request->tmpl) return 0;
  const Template& tmpl = *request->tmpl;
  WWP_FUZZ_CHECK(!request->step_key.empty(), "a parsed step without a step key");
  // The step key hashes the template's bytes: they must be exactly the template that was parsed.
  if (auto bytes = raw_member(wwp::fuzz::as_text(data, size), "template")) {
    auto reparsed = parse_json(*bytes, "template");
    WWP_FUZZ_CHECK(reparsed && *reparsed == request->template_json,
                   "the template's bytes are not the template");
  }
  auto expand = [&](const std::string& text) {
    auto expanded = substitute(text, tmpl, request->workflow, kMaxExpansion);
    WWP_FUZZ_CHECK(!expanded || expanded->size() <= kMaxExpansion, "substitute passed max_bytes");
  };
  for (const auto& arg : tmpl.wasm.args) expand(arg);
  for (const auto& [name, value] : tmpl.wasm.env) expand(value);
  if (tmpl.wasm.stdin_data) expand(*tmpl.wasm.stdin_data);
  for (const auto& artifact : tmpl.input_artifacts) (void)to_json(artifact).dump();
  for (const auto& artifact : tmpl.output_artifacts) (void)to_json(artifact).dump();
  (void)tmpl.wasm.module.describe();
  return 0;
}
