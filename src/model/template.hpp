// The Argo template our plugin executes: the part of Argo's Template we read, plus the
// `plugin.wasm` block that configures the module. Parsing reports the field at fault.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/artifact.hpp"
#include "model/json_fields.hpp"

namespace wwp::model {

struct WorkflowMeta {
  std::string name;
  std::string ns;
  std::string uid;
};

// An input parameter (value after Argo's substitution) or an output parameter declaration.
struct Parameter {
  std::string name;
  std::optional<std::string> value;
  std::optional<std::string> default_value;
  std::optional<std::string> value_from_path;     // outputs: valueFrom.path
  std::optional<std::string> value_from_default;  // outputs: valueFrom.default
};

enum class PullPolicy { IfNotPresent, Always };

struct ModuleRef {
  enum class Kind { Path, Url, Oci };
  Kind kind = Kind::Path;
  std::string location;               // the path, URL or OCI reference as written
  std::optional<std::string> sha256;  // required with url, optional check for path
  std::optional<PullPolicy> pull_policy;

  std::string describe() const;  // "path hello.wasm", "oci ghcr.io/org/tool:1.2"
};

struct ExecutionLimits {
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::uint64_t> disk_bytes;  // what the step's directory may hold
};

struct WasmSpec {
  ModuleRef module;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::optional<std::string> stdin_data;
  Json permissions = Json::object();  // deny by default; capabilities are granted per key
  ExecutionLimits limits;
  // Every other key of `plugin.wasm`, handed to modules of the earlier ABI as plugin_options.
  std::vector<std::pair<std::string, Json>> plugin_options;
};

struct Template {
  std::string name;
  std::vector<Parameter> input_parameters;
  std::vector<Artifact> input_artifacts;
  std::vector<Parameter> output_parameters;
  std::vector<Artifact> output_artifacts;
  WasmSpec wasm;
};

// Whether all a step of `tmpl` can touch is its own sandbox directory: a module from a local file,
// no artifacts, no capabilities. Such a run can be thrown away unseen (BoundedAttempt).
bool stays_in_sandbox(const Template& tmpl);

// One `template.execute` call. `tmpl` is empty when the template is not ours (no plugin.wasm).
struct ExecuteRequest {
  WorkflowMeta workflow;
  std::optional<Template> tmpl;
  // Identifies "the same step" across the agent's requeued calls: workflow uid + "/" + SHA-256 of
  // the template's bytes as received (parse_execute_body), or of its compact serialisation when
  // the request is given as a tree (parse_execute_request).
  std::string step_key;
  // The template object as received: distributed mode hands it to the step's pod unchanged.
  Json template_json;
};

Result<ExecuteRequest> parse_execute_body(std::string_view body);
Result<ExecuteRequest> parse_execute_request(const Json& body);
// Parses a bare Argo template object (for `run`); returns an error if it has no plugin.wasm.
Result<Template> parse_template(const Json& json, std::string_view path = "template");

// Replaces {{inputs.parameters.NAME}} and {{workflow.name|namespace|uid}} in `text`. Argo's
// controller normally did this already; the CLI's `run` and hand-written requests rely on it.
std::string substitute(std::string_view text, const Template& tmpl, const WorkflowMeta& workflow);
// The same, giving up (nullopt) as soon as the result would pass `max_bytes`: a parameter
// repeated many times must not be expanded before its size is known.
std::optional<std::string> substitute(std::string_view text, const Template& tmpl,
                                      const WorkflowMeta& workflow, std::size_t max_bytes);

}  // namespace wwp::model
