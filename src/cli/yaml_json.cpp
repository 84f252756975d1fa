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

// Aliases let a few lines of YAML name the same subtree many times over ("billion laughs"), so the
// expanded size is bounded as well as the depth (deeper JSON would be refused by the model).
constexpr std::size_t kMaxNodes = 1'000'000;

class Converter {
 public:
  Result<model::Json> convert(const YAML::Node& node, std::size_t depth) {
    if (++nodes_ > kMaxNodes) {
      return invalid("the YAML document expands to more than " + std::to_string(kMaxNodes) +
                     " values (aliases included)");
    }
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        return model::Json(nullptr);
      case YAML::NodeType::Scalar:
        return scalar(node);
      case YAML::NodeType::Sequence:
      case YAML::NodeType::Map:
        break;
    }
    if (depth >= model::kMaxJsonDepth) {
      return invalid("the YAML document is nested deeper than " +
                     std::to_string(model::kMaxJsonDepth) + " levels (the limit)");
    }
    if (node.Type() == YAML::NodeType::Sequence) {
      model::Json array = model::Json::array();
      for (const auto& item : node) {
        auto value = convert(item, depth + 1);
        if (!value) return value;
        array.push_back(std::move(*value));
      }
      return array;
    }
    model::Json object = model::Json::object();
    for (const auto& entry : node) {
      auto value = convert(entry.second, depth + 1);
      if (!value) return value;
      object[entry.first.as<std::string>()] = std::move(*value);
    }
    return object;
  }

 private:
  std::size_t nodes_ = 0;
};

}  // namespace

Result<model::Json> yaml_to_json(const std::string& text) {
  try {
    // yaml-cpp's own parser stops at 2000 levels (YAML::DeepRecursion) before we see the tree.
    return Converter().convert(YAML::Load(text), 0);
  } catch (const YAML::Exception& e) {
    return invalid(std::string("invalid YAML: ") + e.what());
  }
}

}  // namespace wwp::cli
