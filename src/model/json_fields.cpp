#include "model/json_fields.hpp"

namespace wwp::model {

std::string json_type_name(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    default:
      return "value";
  }
}

Error field_error(std::string_view path, std::string_view what) {
  return invalid(std::string(path) + ": " + std::string(what));
}

namespace {
std::string member_path(std::string_view path, std::string_view key) {
  return std::string(path) + "." + std::string(key);
}
const Json* find_member(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}
}  // namespace

Result<std::optional<std::string>> optional_string(const Json& object, std::string_view key,
                                                   std::string_view path) {
  const Json* member = find_member(object, key);
  if (member == nullptr) return std::optional<std::string>{};
  if (!member->is_string()) {
    return field_error(member_path(path, key), "expected a string, got " + json_type_name(*member));
  }
  return std::optional<std::string>{member->get<std::string>()};
}

Result<std::string> required_string(const Json& object, std::string_view key,
                                    std::string_view path) {
  auto value = optional_string(object, key, path);
  if (!value) return value.error();
  if (!value->has_value()) return field_error(member_path(path, key), "is required");
  return std::move(**value);
}

Result<std::optional<bool>> optional_bool(const Json& object, std::string_view key,
                                          std::string_view path) {
  const Json* member = find_member(object, key);
  if (member == nullptr) return std::optional<bool>{};
  if (member->is_boolean()) return std::optional<bool>{member->get<bool>()};
  if (member->is_string() && (*member == "true" || *member == "false")) {
    return std::optional<bool>{*member == "true"};
  }
  return field_error(member_path(path, key),
                     "expected true or false, got " + json_type_name(*member));
}

Result<const Json*> optional_object(const Json& object, std::string_view key,
                                    std::string_view path) {
  const Json* member = find_member(object, key);
  if (member == nullptr) return static_cast<const Json*>(nullptr);
  if (!member->is_object()) {
    return field_error(member_path(path, key),
                       "expected an object, got " + json_type_name(*member));
  }
  return member;
}

Result<const Json*> optional_array(const Json& object, std::string_view key,
                                   std::string_view path) {
  const Json* member = find_member(object, key);
  if (member == nullptr) return static_cast<const Json*>(nullptr);
  if (!member->is_array()) {
    return field_error(member_path(path, key), "expected a list, got " + json_type_name(*member));
  }
  return member;
}

std::string render_value(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

}  // namespace wwp::model
