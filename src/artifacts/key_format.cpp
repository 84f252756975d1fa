#include "artifacts/key_format.hpp"

#include <openssl/evp.h>

namespace wwp::artifacts {

namespace {

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

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
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(step.step_key.data(), step.step_key.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string suffix;
  for (int i = 0; i < 4; ++i) {
    suffix.push_back(hex[digest[i] >> 4]);
    suffix.push_back(hex[digest[i] & 0xf]);
  }
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
    const std::string name = trim(key_format.substr(open + 2, close - open - 2));
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
