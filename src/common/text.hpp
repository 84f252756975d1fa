// Small text helpers used by parsers of headers, lists and configuration values. ASCII only, on
// purpose: locale-dependent <cctype> calls would make parsing depend on the environment.
#pragma once

#include <string>
#include <string_view>

namespace wwp {

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Without leading and trailing whitespace.
std::string_view trim(std::string_view text);
// Without trailing whitespace (secret files end with a newline; leading spaces may be meant).
std::string_view trim_end(std::string_view text);
// ASCII lower case.
std::string to_lower(std::string_view text);

}  // namespace wwp
