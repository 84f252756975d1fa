#include "model/json_fields.hpp"

namespace wwp::model {

namespace {

// Builds the tree in the same pass that bounds its depth: one walk over the text instead of a
// probe followed by a parse. nlohmann's own DOM builder does the building; its SAX interface is
// duck-typed (sax_parse is a template), so this wrapper only counts levels on the way.
class DepthLimitedDom {
 public:
  using Dom = nlohmann::detail::json_sax_dom_parser<Json>;
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  explicit DepthLimitedDom(Json& result) : dom_(result, /*allow_exceptions=*/false) {}

  bool too_deep = false;
  bool errored() const { return dom_.is_errored(); }

  bool null() { return dom_.null(); }
  bool boolean(bool value) { return dom_.boolean(value); }
  bool number_integer(number_integer_t value) { return dom_.number_integer(value); }
  bool number_unsigned(number_unsigned_t value) { return dom_.number_unsigned(value); }
  bool number_float(number_float_t value, const string_t& text) {
    return dom_.number_float(value, text);
  }
  bool string(string_t& value) { return dom_.string(value); }
  bool binary(binary_t& value) { return dom_.binary(value); }
  bool start_object(std::size_t size) { return enter() && dom_.start_object(size); }
  bool key(string_t& value) { return dom_.key(value); }
  bool end_object() { return leave() && dom_.end_object(); }
  bool start_array(std::size_t size) { return enter() && dom_.start_array(size); }
  bool end_array() { return leave() && dom_.end_array(); }
  bool parse_error(std::size_t position, const std::string& token,
                   const nlohmann::detail::exception& error) {
    return dom_.parse_error(position, token, error);
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
  Dom dom_;
  std::size_t depth_ = 0;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t skip_space(std::string_view text, std::size_t pos) {
  while (pos < text.size() && is_space(text[pos])) ++pos;
  return pos;
}

// pos is at the opening quote; returns the index past the closing one (npos if there is none).
std::size_t skip_string(std::string_view text, std::size_t pos) {
  for (++pos; pos < text.size(); ++pos) {
    if (text[pos] == '\\') {
      ++pos;
    } else if (text[pos] == '"') {
      return pos + 1;
    }
  }
  return std::string_view::npos;
}

// pos is at the first byte of a value; returns the index past its last byte (npos if cut short).
std::size_t skip_value(std::string_view text, std::size_t pos) {
  if (text[pos] == '"') return skip_string(text, pos);
  if (text[pos] != '{' && text[pos] != '[') {
    while (pos < text.size() && !is_space(text[pos]) && text[pos] != ',' && text[pos] != '}' &&
           text[pos] != ']')
      ++pos;
    return pos;
  }
  std::size_t depth = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '"') {
      pos = skip_string(text, pos);
      if (pos == std::string_view::npos) return pos;
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    ++pos;
    if (depth == 0) return pos;
  }
  return std::string_view::npos;
}

}  // namespace

Result<Json> parse_json(std::string_view text, std::string_view what) {
  Json json;
  DepthLimitedDom builder(json);
  const bool well_formed = Json::sax_parse(text, &builder, nlohmann::json::input_format_t::json,
                                           /*strict=*/true, /*ignore_comments=*/false);
  if (builder.too_deep) {
    return invalid(std::string(what) + " is nested deeper than " + std::to_string(kMaxJsonDepth) +
                   " levels (the limit)");
  }
  if (!well_formed || builder.errored()) return invalid(std::string(what) + " is not valid JSON");
  return json;
}

std::optional<std::string_view> raw_member(std::string_view text, std::string_view key) {
  // A byte order mark is skipped by the parser, so it may open text that parsed.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::size_t pos = skip_space(text, 0);
  if (pos >= text.size() || text[pos] != '{') return std::nullopt;
  std::optional<std::string_view> found;
  pos = skip_space(text, pos + 1);
  while (pos < text.size() && text[pos] == '"') {
    const std::size_t key_end = skip_string(text, pos);
    if (key_end == std::string_view::npos) return std::nullopt;
    const std::string_view raw_key = text.substr(pos + 1, key_end - pos - 2);
    // An escaped key may spell `key` in another way; the caller falls back to the tree.
    if (raw_key.find('\\') != std::string_view::npos) return std::nullopt;
    pos = skip_space(text, key_end);
    if (pos >= text.size() || text[pos] != ':') return std::nullopt;
    pos = skip_space(text, pos + 1);
    if (pos >= text.size()) return std::nullopt;
    const std::size_t value_end = skip_value(text, pos);
    if (value_end == std::string_view::npos) return std::nullopt;
    // The parser keeps the last of duplicate keys, and so does this.
    if (raw_key == key) found = text.substr(pos, value_end - pos);
    pos = skip_space(text, value_end);
    if (pos < text.size() && text[pos] == ',') pos = skip_space(text, pos + 1);
  }
  return found;
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
