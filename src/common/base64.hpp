// Base64 (standard alphabet) for HTTP Basic credentials, Docker config `auth` fields and
// Kubernetes Secret data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wwp {

std::string base64_encode(std::string_view bytes);
// Whitespace (line breaks of wrapped encodings) is skipped; the rest must be whole padded groups
// of four. nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace wwp
