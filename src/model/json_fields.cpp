#include "model/json_fields.hpp"

namespace wwp::model {

namespace {

// Walks the tokens without building anything and stops at the first level past the limit.
class DepthProbe : public nlohmann::json_sax<Json> {
 public:
  bool too_deep = false;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return enter(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return leave(); }
  bool start_array(std::size_t) override { return enter(); }
  bool end_array() override { return leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  bool enter() {
    if (++depth_ > kMaxJsonDepth) too_deep = true;
    return !too_deep;
  }
  bool leave() {
    --depth_;
    return true;
  }
  std::size_t depth_ = 0;
};

}  // namespace

Result<Json> parse_json(std::string_view text, std::string_view what) {
  DepthProbe probe;
  const bool well_formed = Json::sax_parse(text, &probe, nlohmann::json::input_format_t::json,
                                           /*strict=*/true, /*ignore_comments=*/false);
  if (probe.too_deep) {
    return invalid(std::string(what) + " is nested deeper than " + std::to_string(kMaxJsonDepth) +
                   " levels (the limit)");
  }
  if (!well_formed) return invalid(std::string(what) + " is not valid JSON");
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return invalid(std::string(what) + " is not valid JSON");
  return json;
}

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
