// The little URL handling the HTTP users need, without a URL library.
#pragma once

#include <string>
#include <string_view>

namespace wwp::net {

// Percent-encoding of everything except A-Z a-z 0-9 - _ . ~ (upper-case hex), as RFC 3986 and
// AWS SigV4 want it; '/' is kept when `keep_slash` (object keys in paths).
std::string percent_encode(std::string_view text, bool keep_slash = false);

// Host[:port] of an http(s) URL, lowercased, without user info; empty when not http(s).
std::string url_host(std::string_view url);

// "http" or "https" (lowercased) when the URL uses one of them, else the scheme as written, or
// empty when there is none.
std::string url_scheme(std::string_view url);

// The URL without its query and fragment: queries often carry signatures or tokens.
std::string without_query(std::string_view url);

}  // namespace wwp::net
