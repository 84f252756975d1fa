#include "artifacts/key_format.hpp"

#include "common/digest.hpp"
#include "common/text.hpp"

namespace wwp::artifacts {

namespace {

// Joins with single slashes, dropping empty segments: "a/", "/b" -> "a/b".
std::string join_key(std::string_view left, std::string_view right) {
  std::string out;
  for (std::string_view part : {left, right}) {
    std::size_t start = 0;
    while (start <= part.size()) {
      std::size_t end = part.find('/', start);
      if (end == std::string_view::npos) end = part.size();
      if (end > start) {
        if (!out.empty()) out.push_back('/');
        out.append(part.substr(start, end - start));
      }
      start = end + 1;
    }
  }
  return out;
}

}  // namespace

std::string step_pod_name(const StepContext& step) {
  // Eight hex digits of the step key's hash, like the random suffix of a pod name.
  const std::string suffix = sha256_of(step.step_key).hex.substr(0, 8);
  std::string name = step.workflow.name;
  if (!step.template_name.empty()) name += (name.empty() ? "" : "-") + step.template_name;
  return name.empty() ? suffix : name + "-" + suffix;
}

KeyVariables key_variables(const StepContext& step) {
  return KeyVariables{step.workflow.name, step.workflow.ns, step.workflow.uid, step_pod_name(step)};
}

Result<std::string> format_key(std::string_view key_format, const KeyVariables& variables) {
  std::string out;
  std::size_t pos = 0;
  while (pos < key_format.size()) {
    std::size_t open = key_format.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(key_format.substr(pos));
      break;
    }
    out.append(key_format.substr(pos, open - pos));
    std::size_t close = key_format.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return invalid("keyFormat " + std::string(key_format) + ": unterminated '{{'");
    }
    const std::string name(trim(key_format.substr(open + 2, close - open - 2)));
    if (name == "workflow.name") {
      out += variables.workflow_name;
    } else if (name == "workflow.namespace") {
      out += variables.workflow_namespace;
    } else if (name == "workflow.uid") {
      out += variables.workflow_uid;
    } else if (name == "pod.name") {
      out += variables.pod_name;
    } else {
      return invalid("keyFormat " + std::string(key_format) + ": {{" + name +
                     "}} is not supported for plugin steps (use workflow.name, workflow.namespace, "
                     "workflow.uid or pod.name)");
    }
    pos = close + 2;
  }
  return out;
}

Result<std::string> output_key(std::string_view key_format, std::string_view key_prefix,
                               const KeyVariables& variables, std::string_view file_name) {
  std::string format;
  if (!key_format.empty()) {
    format = std::string(key_format);
  } else {
    format = join_key(key_prefix, kDefaultKeyFormat);
  }
  auto directory = format_key(format, variables);
  if (!directory) return directory.error();
  return join_key(*directory, file_name);
}

}  // namespace wwp::artifacts
