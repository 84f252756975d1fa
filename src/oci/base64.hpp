// Base64 for HTTP Basic credentials and Docker config `auth` fields.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wwp::oci {

std::string base64_encode(std::string_view bytes);
// Standard alphabet; padding optional, whitespace not allowed. nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace wwp::oci
