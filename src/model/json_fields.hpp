// Reading JSON with errors that name the field at fault ("template.plugin.wasm.args[1]: expected
// a string, got number"). Every parser in model/ goes through these helpers.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wwp::model {

using Json = nlohmann::json;

// Deeper JSON is refused before a tree is built: copying, dumping and comparing nlohmann trees
// recurse once per level, so an untrusted depth would overflow the stack.
inline constexpr std::size_t kMaxJsonDepth = 128;

// Parses untrusted JSON; `what` names the document in errors ("request body", "result.json").
Result<Json> parse_json(std::string_view text, std::string_view what);

// The bytes of the value of the top-level member `key` in `text`, which must be JSON that
// parse_json accepted (it is not checked again). nullopt when the member is absent or when a
// top-level key is written with escapes (then the tree is the only safe reading).
std::optional<std::string_view> raw_member(std::string_view text, std::string_view key);

std::string json_type_name(const Json& value);

Error field_error(std::string_view path, std::string_view what);

// A member that may be absent or null; present with the wrong type is an error.
Result<std::optional<std::string>> optional_string(const Json& object, std::string_view key,
                                                   std::string_view path);
Result<std::string> required_string(const Json& object, std::string_view key,
                                    std::string_view path);
Result<std::optional<bool>> optional_bool(const Json& object, std::string_view key,
                                          std::string_view path);
// A member that must be an object (absent/null -> nullptr).
Result<const Json*> optional_object(const Json& object, std::string_view key,
                                    std::string_view path);
Result<const Json*> optional_array(const Json& object, std::string_view key, std::string_view path);

// Argo parameter values are strings; authors write numbers and JSON too. Renders any scalar or
// structure as the text Argo would show: strings unquoted, everything else as compact JSON.
std::string render_value(const Json& value);

}  // namespace wwp::model
