#include "cli/yaml_json.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>

namespace wwp::cli {

namespace {

model::Json scalar(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text == "null" || text == "~" || text.empty()) return nullptr;
  std::int64_t integer = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), integer);
  if (ec == std::errc() && end == text.data() + text.size()) {
    // YAML 1.1 octal (0755) is how file modes are written in Argo manifests.
    if (text.size() > 1 && text[0] == '0' &&
        text.find_first_not_of("01234567") == std::string::npos) {
      return std::stoll(text, nullptr, 8);
    }
    return integer;
  }
  if (text.starts_with("0o")) return std::stoll(text.substr(2), nullptr, 8);
  char* float_end = nullptr;
  double real = std::strtod(text.c_str(), &float_end);
  if (float_end == text.c_str() + text.size() &&
      text.find_first_of("0123456789") != std::string::npos &&
      text.find_first_not_of("0123456789.eE+-") == std::string::npos) {
    return real;
  }
  return text;
}

model::Json convert(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar(node);
    case YAML::NodeType::Sequence: {
      model::Json array = model::Json::array();
      for (const auto& item : node) array.push_back(convert(item));
      return array;
    }
    case YAML::NodeType::Map: {
      model::Json object = model::Json::object();
      for (const auto& entry : node) object[entry.first.as<std::string>()] = convert(entry.second);
      return object;
    }
  }
  return nullptr;
}

}  // namespace

Result<model::Json> yaml_to_json(const std::string& text) {
  try {
    return convert(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return invalid(std::string("invalid YAML: ") + e.what());
  }
}

}  // namespace wwp::cli
