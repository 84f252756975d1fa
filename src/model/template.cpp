#include "model/template.hpp"

#include <set>

#include "common/digest.hpp"
#include "common/units.hpp"

namespace wwp::model {

std::string ModuleRef::describe() const {
  switch (kind) {
    case Kind::Path:
      return "path " + location;
    case Kind::Url:
      return "url " + location;
    case Kind::Oci:
      return "oci " + location;
  }
  return location;
}

namespace {

bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

std::string indexed(std::string_view path, std::size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

Result<Parameter> parse_parameter(const Json& json, std::string_view path) {
  if (!json.is_object())
    return field_error(path, "expected a parameter object, got " + json_type_name(json));
  Parameter parameter;
  auto name = required_string(json, "name", path);
  if (!name) return name.error();
  parameter.name = *name;
  // Argo sends parameter values as strings; hand-written templates may use numbers.
  if (json.contains("value") && !json["value"].is_null())
    parameter.value = render_value(json["value"]);
  if (json.contains("default") && !json["default"].is_null()) {
    parameter.default_value = render_value(json["default"]);
  }
  // Values are substituted into arguments and environment values, which are C strings.
  for (auto [key, value] :
       {std::pair{"value", &parameter.value}, std::pair{"default", &parameter.default_value}}) {
    if (*value && has_nul(**value))
      return field_error(std::string(path) + "." + key, "must not contain a NUL character");
  }
  auto value_from = optional_object(json, "valueFrom", path);
  if (!value_from) return value_from.error();
  if (*value_from != nullptr) {
    auto from_path = optional_string(**value_from, "path", std::string(path) + ".valueFrom");
    if (!from_path) return from_path.error();
    parameter.value_from_path = *from_path;
    const Json& vf = **value_from;
    if (vf.contains("default") && !vf["default"].is_null()) {
      parameter.value_from_default = render_value(vf["default"]);
    }
  }
  return parameter;
}

template <class T, class Parse>
Result<std::vector<T>> parse_list(const Json& object, std::string_view key, std::string_view path,
                                  Parse parse) {
  std::vector<T> items;
  auto list = optional_array(object, key, path);
  if (!list) return list.error();
  if (*list == nullptr) return items;
  std::string list_path = std::string(path) + "." + std::string(key);
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    auto item = parse((**list)[i], indexed(list_path, i));
    if (!item) return item.error();
    items.push_back(std::move(*item));
  }
  return items;
}

Result<ModuleRef> parse_module_ref(const Json& wasm, std::string_view path) {
  ModuleRef ref;
  std::string module_path = std::string(path) + ".module";
  const Json* module = nullptr;
  if (wasm.contains("module") && !wasm["module"].is_null()) {
    module = &wasm["module"];
  }
  // The earlier implementation named the OCI reference `image`; keep those templates working.
  if (module == nullptr && wasm.contains("image") && wasm["image"].is_string()) {
    ref.kind = ModuleRef::Kind::Oci;
    ref.location = wasm["image"].get<std::string>();
    return ref;
  }
  if (module == nullptr) {
    return field_error(module_path, "is required (one of path, url or oci)");
  }
  if (module->is_string()) {
    return field_error(module_path,
                       "expected an object such as {path: hello.wasm}, {url: ..., sha256: ...} or "
                       "{oci: registry/repo:tag}");
  }
  if (!module->is_object()) {
    return field_error(module_path, "expected an object, got " + json_type_name(*module));
  }
  int kinds = 0;
  for (auto [key, kind] :
       {std::pair{"path", ModuleRef::Kind::Path}, std::pair{"url", ModuleRef::Kind::Url},
        std::pair{"oci", ModuleRef::Kind::Oci}}) {
    auto value = optional_string(*module, key, module_path);
    if (!value) return value.error();
    if (value->has_value()) {
      ++kinds;
      ref.kind = kind;
      ref.location = **value;
      if (ref.location.empty()) return field_error(module_path + "." + key, "must not be empty");
      // The C APIs below would silently use the prefix before the NUL: another file or URL.
      if (has_nul(ref.location))
        return field_error(module_path + "." + key, "must not contain a NUL character");
    }
  }
  if (kinds != 1) {
    return field_error(module_path, kinds == 0 ? "needs one of path, url or oci"
                                               : "give only one of path, url or oci");
  }
  auto sha = optional_string(*module, "sha256", module_path);
  if (!sha) return sha.error();
  if (sha->has_value()) {
    std::string digest = **sha;
    if (digest.starts_with("sha256:")) digest = digest.substr(7);
    bool hex =
        digest.size() == 64 && digest.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex) return field_error(module_path + ".sha256", "expected 64 lowercase hex digits");
    ref.sha256 = digest;
  }
  if (ref.kind == ModuleRef::Kind::Url) {
    if (!ref.sha256) {
      return field_error(module_path + ".sha256",
                         "is required with url (the module's SHA-256 digest)");
    }
    if (!ref.location.starts_with("https://") && !ref.location.starts_with("http://")) {
      return field_error(module_path + ".url", "must be an http:// or https:// URL");
    }
  }
  auto policy = optional_string(*module, "pullPolicy", module_path);
  if (!policy) return policy.error();
  if (policy->has_value()) {
    if (**policy == "Always")
      ref.pull_policy = PullPolicy::Always;
    else if (**policy == "IfNotPresent")
      ref.pull_policy = PullPolicy::IfNotPresent;
    else
      return field_error(module_path + ".pullPolicy", "expected Always or IfNotPresent");
  }
  return ref;
}

Result<WasmSpec> parse_wasm_spec(const Json& wasm, std::string_view path) {
  if (!wasm.is_object())
    return field_error(path, "expected an object, got " + json_type_name(wasm));
  WasmSpec spec;
  auto module = parse_module_ref(wasm, path);
  if (!module) return module.error();
  spec.module = *module;

  auto args = optional_array(wasm, "args", path);
  if (!args) return args.error();
  if (*args != nullptr) {
    for (std::size_t i = 0; i < (*args)->size(); ++i) {
      const Json& arg = (**args)[i];
      if (arg.is_object() || arg.is_array() || arg.is_null()) {
        return field_error(indexed(std::string(path) + ".args", i),
                           "expected a string, got " + json_type_name(arg));
      }
      spec.args.push_back(render_value(arg));
      if (has_nul(spec.args.back())) {
        return field_error(indexed(std::string(path) + ".args", i),
                           "must not contain a NUL character (WASI arguments are C strings)");
      }
    }
  }
  auto env = optional_object(wasm, "env", path);
  if (!env) return env.error();
  if (*env != nullptr) {
    for (const auto& [key, value] : (*env)->items()) {
      if (value.is_object() || value.is_array()) {
        return field_error(std::string(path) + ".env." + key,
                           "expected a string, got " + json_type_name(value));
      }
      const std::string env_path = std::string(path) + ".env." + key;
      if (key.empty()) return field_error(std::string(path) + ".env", "a variable name is empty");
      if (key.find('=') != std::string::npos)
        return field_error(env_path, "a variable name must not contain '='");
      if (has_nul(key))
        return field_error(std::string(path) + ".env", "a variable name contains a NUL character");
      spec.env.emplace_back(key, render_value(value));
      if (has_nul(spec.env.back().second))
        return field_error(env_path, "must not contain a NUL character");
    }
  }
  auto stdin_data = optional_string(wasm, "stdin", path);
  if (!stdin_data) return stdin_data.error();
  spec.stdin_data = *stdin_data;

  auto permissions = optional_object(wasm, "permissions", path);
  if (!permissions) return permissions.error();
  if (*permissions != nullptr) spec.permissions = **permissions;

  auto limits = optional_object(wasm, "limits", path);
  if (!limits) return limits.error();
  if (*limits != nullptr) {
    std::string limits_path = std::string(path) + ".limits";
    for (const auto& [key, value] : (*limits)->items()) {
      if (key != "timeout" && key != "memory" && key != "disk") {
        return field_error(limits_path + "." + key, "unknown limit (known: timeout, memory, disk)");
      }
    }
    const Json& l = **limits;
    if (l.contains("timeout") && !l["timeout"].is_null()) {
      auto timeout = parse_duration(render_value(l["timeout"]));
      if (!timeout) return timeout.error().context(limits_path + ".timeout");
      if (timeout->count() <= 0) return field_error(limits_path + ".timeout", "must be positive");
      spec.limits.timeout = *timeout;
    }
    if (l.contains("memory") && !l["memory"].is_null()) {
      auto memory = parse_quantity(render_value(l["memory"]));
      if (!memory) return memory.error().context(limits_path + ".memory");
      if (*memory < 65536)
        return field_error(limits_path + ".memory", "must be at least 64Ki (one Wasm page)");
      spec.limits.memory_bytes = *memory;
    }
    if (l.contains("disk") && !l["disk"].is_null()) {
      auto disk = parse_quantity(render_value(l["disk"]));
      if (!disk) return disk.error().context(limits_path + ".disk");
      if (*disk == 0) return field_error(limits_path + ".disk", "must be positive");
      spec.limits.disk_bytes = *disk;
    }
  }
  static const std::set<std::string> kKnown = {"module", "image",       "args",  "env",
                                               "stdin",  "permissions", "limits"};
  for (const auto& [key, value] : wasm.items()) {
    if (!kKnown.contains(key)) spec.plugin_options.emplace_back(key, value);
  }
  return spec;
}

}  // namespace

Result<Template> parse_template(const Json& json, std::string_view path) {
  if (!json.is_object())
    return field_error(path, "expected an object, got " + json_type_name(json));
  Template tmpl;
  auto name = optional_string(json, "name", path);
  if (!name) return name.error();
  tmpl.name = name->value_or("");
  std::string plugin_path = std::string(path) + ".plugin";
  auto plugin = optional_object(json, "plugin", path);
  if (!plugin) return plugin.error();
  if (*plugin == nullptr || !(*plugin)->contains("wasm")) {
    return field_error(plugin_path + ".wasm", "is required");
  }
  auto wasm = parse_wasm_spec((**plugin)["wasm"], plugin_path + ".wasm");
  if (!wasm) return wasm.error();
  tmpl.wasm = std::move(*wasm);

  std::string inputs_path = std::string(path) + ".inputs";
  std::string outputs_path = std::string(path) + ".outputs";
  auto inputs = optional_object(json, "inputs", path);
  if (!inputs) return inputs.error();
  if (*inputs != nullptr) {
    auto params = parse_list<Parameter>(**inputs, "parameters", inputs_path, parse_parameter);
    if (!params) return params.error();
    tmpl.input_parameters = std::move(*params);
    auto artifacts = parse_list<Artifact>(**inputs, "artifacts", inputs_path, parse_artifact);
    if (!artifacts) return artifacts.error();
    tmpl.input_artifacts = std::move(*artifacts);
  }
  auto outputs = optional_object(json, "outputs", path);
  if (!outputs) return outputs.error();
  if (*outputs != nullptr) {
    auto params = parse_list<Parameter>(**outputs, "parameters", outputs_path, parse_parameter);
    if (!params) return params.error();
    tmpl.output_parameters = std::move(*params);
    auto artifacts = parse_list<Artifact>(**outputs, "artifacts", outputs_path, parse_artifact);
    if (!artifacts) return artifacts.error();
    tmpl.output_artifacts = std::move(*artifacts);
  }
  return tmpl;
}

namespace {

// `template_bytes`: the template as the agent sent it, when the caller has the text; the step key
// hashes those bytes instead of serialising the tree again (the agent sends the same bytes on
// every call for a step). `body` is taken by value: the template tree is moved into the request.
Result<ExecuteRequest> parse_request(Json body, std::optional<std::string_view> template_bytes) {
  if (!body.is_object())
    return field_error("body", "expected a JSON object, got " + json_type_name(body));
  ExecuteRequest request;
  auto workflow = optional_object(body, "workflow", "body");
  if (!workflow) return workflow.error();
  if (*workflow != nullptr) {
    auto metadata = optional_object(**workflow, "metadata", "workflow");
    if (!metadata) return metadata.error();
    if (*metadata != nullptr) {
      for (auto [key, target] :
           {std::pair{"name", &request.workflow.name}, std::pair{"namespace", &request.workflow.ns},
            std::pair{"uid", &request.workflow.uid}}) {
        auto value = optional_string(**metadata, key, "workflow.metadata");
        if (!value) return value.error();
        *target = value->value_or("");
      }
    }
  }
  auto tmpl = optional_object(body, "template", "body");
  if (!tmpl) return tmpl.error();
  if (*tmpl == nullptr) return field_error("template", "is required");
  const Json* plugin = (*tmpl)->contains("plugin") ? &(**tmpl)["plugin"] : nullptr;
  if (plugin == nullptr || !plugin->is_object() || !plugin->contains("wasm")) {
    return request;  // another plugin's template: the agent asks every plugin in turn
  }
  auto parsed = parse_template(**tmpl, "template");
  if (!parsed) return parsed.error();
  request.tmpl = std::move(*parsed);
  request.template_json = std::move(body["template"]);
  const Digest digest =
      template_bytes ? sha256_of(*template_bytes) : sha256_of(request.template_json.dump());
  request.step_key = request.workflow.uid + "/" + digest.hex;
  return request;
}

}  // namespace

Result<ExecuteRequest> parse_execute_request(const Json& body) {
  return parse_request(body, std::nullopt);
}

Result<ExecuteRequest> parse_execute_body(std::string_view body) {
  auto json = parse_json(body, "request body");
  if (!json) return json.error();
  return parse_request(std::move(*json), raw_member(body, "template"));
}

std::string substitute(std::string_view text, const Template& tmpl, const WorkflowMeta& workflow) {
  return *substitute(text, tmpl, workflow, std::string::npos);
}

std::optional<std::string> substitute(std::string_view text, const Template& tmpl,
                                      const WorkflowMeta& workflow, std::size_t max_bytes) {
  if (text.size() > max_bytes) return std::nullopt;
  if (text.find("{{") == std::string_view::npos) return std::string(text);
  std::string out;
  auto fits = [&](std::size_t more) { return more <= max_bytes - out.size(); };
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    if (!fits(open - pos)) return std::nullopt;
    out.append(text.substr(pos, open - pos));
    std::string_view expr = text.substr(open + 2, close - open - 2);
    while (!expr.empty() && expr.front() == ' ') expr.remove_prefix(1);
    while (!expr.empty() && expr.back() == ' ') expr.remove_suffix(1);
    const std::string* replacement = nullptr;
    constexpr std::string_view kParam = "inputs.parameters.";
    if (expr.starts_with(kParam)) {
      std::string_view name = expr.substr(kParam.size());
      for (const auto& p : tmpl.input_parameters) {
        if (p.name == name) {
          replacement = p.value ? &*p.value : p.default_value ? &*p.default_value : nullptr;
        }
      }
    } else if (expr == "workflow.name") {
      replacement = &workflow.name;
    } else if (expr == "workflow.namespace") {
      replacement = &workflow.ns;
    } else if (expr == "workflow.uid") {
      replacement = &workflow.uid;
    }
    // Unknown expressions stay as written, as Argo leaves them for later stages.
    const std::string_view piece =
        replacement ? std::string_view(*replacement) : text.substr(open, close + 2 - open);
    if (!fits(piece.size())) return std::nullopt;
    out.append(piece);
    pos = close + 2;
  }
  if (!fits(text.size() - pos)) return std::nullopt;
  out.append(text.substr(pos));
  return out;
}

bool stays_in_sandbox(const Template& tmpl) {
  return tmpl.wasm.module.kind == ModuleRef::Kind::Path && tmpl.input_artifacts.empty() &&
         tmpl.output_artifacts.empty() && tmpl.wasm.permissions.empty();
}

}  // namespace wwp::model
