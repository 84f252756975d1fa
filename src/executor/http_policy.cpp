#include "executor/http_policy.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/text.hpp"
#include "net/http.hpp"

namespace wwp::executor {

using model::Json;

namespace {

std::uint16_t default_port(const std::string& scheme) { return scheme == "https" ? 443 : 80; }

struct ParsedUrl {
  std::string scheme;
  std::string host;  // lower case, no trailing dot, IPv6 without brackets
  std::uint16_t port = 0;
  bool explicit_port = false;
  bool has_extras = false;  // user info, path other than "/", query or fragment
};

std::optional<ParsedUrl> parse_url(const std::string& text) {
  net::global_init();
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), curl_url_cleanup);
  if (!url || curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
    return std::nullopt;
  auto part = [&](CURLUPart which, unsigned flags = 0) -> std::optional<std::string> {
    char* value = nullptr;
    if (curl_url_get(url.get(), which, &value, flags) != CURLUE_OK) return std::nullopt;
    std::string copy(value);
    curl_free(value);
    return copy;
  };
  ParsedUrl parsed;
  auto scheme = part(CURLUPART_SCHEME);
  auto host = part(CURLUPART_HOST);
  if (!scheme || !host || host->empty()) return std::nullopt;
  parsed.scheme = to_lower(*scheme);
  parsed.host = to_lower(*host);
  if (parsed.host.size() > 2 && parsed.host.front() == '[' && parsed.host.back() == ']')
    parsed.host = parsed.host.substr(1, parsed.host.size() - 2);
  if (!parsed.host.empty() && parsed.host.back() == '.') parsed.host.pop_back();
  parsed.explicit_port = part(CURLUPART_PORT).has_value();
  auto port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!port) return std::nullopt;
  parsed.port = static_cast<std::uint16_t>(std::stoul(*port));
  auto path = part(CURLUPART_PATH);
  parsed.has_extras = part(CURLUPART_USER).has_value() || part(CURLUPART_QUERY).has_value() ||
                      part(CURLUPART_FRAGMENT).has_value() || (path && *path != "/");
  return parsed;
}

bool host_matches(const std::string& pattern, const std::string& host) {
  if (pattern.starts_with("*.")) {
    const std::string_view suffix = std::string_view(pattern).substr(1);  // ".example.com"
    return host.size() > suffix.size() && host.ends_with(suffix);
  }
  return pattern == host;
}

bool parse_address(const std::string& text, int& family, std::array<std::uint8_t, 16>& bytes) {
  bytes.fill(0);
  if (::inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    family = AF_INET;
    return true;
  }
  if (::inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) {
    family = AF_INET6;
    return true;
  }
  return false;
}

}  // namespace

Result<HttpAllowList> HttpAllowList::parse(const Json& entries, std::string_view path) {
  if (!entries.is_array()) return invalid(std::string(path) + ": expected a list of URLs");
  HttpAllowList list;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string where = std::string(path) + "[" + std::to_string(i) + "]";
    if (!entries[i].is_string()) return invalid(where + ": expected a string");
    std::string text = entries[i].get<std::string>();
    HttpAllowEntry entry;
    // curl's parser does not take "*" in a host name: parse a stand-in and put it back.
    const auto star = text.find("://*.");
    const bool wildcard = star != std::string::npos;
    if (wildcard) text.replace(star + 3, 1, "wildcard-placeholder");
    auto parsed = parse_url(text);
    if (!parsed || (parsed->scheme != "http" && parsed->scheme != "https")) {
      return invalid(where + ": expected scheme://host[:port] with scheme http or https, got \"" +
                     entries[i].get<std::string>() + "\"");
    }
    if (parsed->has_extras)
      return invalid(where + ": an entry names a scheme, a host and a port only (no path)");
    entry.scheme = parsed->scheme;
    entry.host = parsed->host;
    if (wildcard) entry.host.replace(0, std::strlen("wildcard-placeholder"), "*");
    if (parsed->explicit_port) entry.port = parsed->port;
    list.entries_.push_back(std::move(entry));
  }
  return list;
}

std::optional<sandbox::HttpRefusal> HttpAllowList::refusal(const std::string& url) const {
  auto parsed = parse_url(url);
  if (!parsed) return sandbox::HttpRefusal{"not a valid URL", true};
  if (parsed->scheme != "http" && parsed->scheme != "https")
    return sandbox::HttpRefusal{"only http and https URLs are allowed", false};
  for (const auto& entry : entries_) {
    const std::uint16_t port = entry.port.value_or(default_port(entry.scheme));
    if (entry.scheme == parsed->scheme && port == parsed->port &&
        host_matches(entry.host, parsed->host)) {
      return std::nullopt;
    }
  }
  return sandbox::HttpRefusal{parsed->scheme + "://" + parsed->host + ":" +
                                  std::to_string(parsed->port) +
                                  " is not in permissions.http.allowed_hosts",
                              false};
}

Result<AddressDenyList> AddressDenyList::parse(const std::vector<std::string>& cidrs) {
  AddressDenyList list;
  for (const auto& cidr : cidrs) {
    Range range;
    range.text = cidr;
    const auto slash = cidr.find('/');
    const std::string address = cidr.substr(0, slash);
    if (!parse_address(address, range.family, range.bytes))
      return invalid("--http-deny-cidrs: \"" + cidr + "\" is not an IPv4 or IPv6 range");
    const int bits = range.family == AF_INET ? 32 : 128;
    range.prefix = bits;
    if (slash != std::string::npos) {
      const std::string prefix = cidr.substr(slash + 1);
      if (prefix.empty() || prefix.size() > 3 ||
          !std::all_of(prefix.begin(), prefix.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          std::stoi(prefix) > bits) {
        return invalid("--http-deny-cidrs: \"" + cidr + "\" has an invalid prefix length");
      }
      range.prefix = std::stoi(prefix);
    }
    list.ranges_.push_back(std::move(range));
  }
  return list;
}

std::optional<std::string> AddressDenyList::denying_range(const std::string& address) const {
  int family = 0;
  std::array<std::uint8_t, 16> bytes{};
  if (!parse_address(address, family, bytes)) return std::nullopt;
  for (const auto& range : ranges_) {
    if (range.family != family) continue;
    const int full = range.prefix / 8;
    const int rest = range.prefix % 8;
    bool inside = std::equal(bytes.begin(), bytes.begin() + full, range.bytes.begin());
    if (inside && rest != 0) {
      const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
      inside = (bytes[full] & mask) == (range.bytes[full] & mask);
    }
    if (inside) return range.text;
  }
  return std::nullopt;
}

Result<std::optional<sandbox::HttpPolicy>> make_http_policy(
    const Json& permissions, const HttpSettings& settings,
    const sandbox::HttpTransport& transport) {
  const std::string base = "template.plugin.wasm.permissions";
  if (!permissions.is_object()) return invalid(base + ": expected an object");
  for (const auto& [key, value] : permissions.items()) {
    if (key != "http") {
      return invalid(base + "." + key +
                     ": not a capability this plugin grants (the only one is http)");
    }
  }
  if (!permissions.contains("http") || permissions["http"].is_null())
    return std::optional<sandbox::HttpPolicy>();
  const Json& http = permissions["http"];
  const std::string path = base + ".http";
  if (!http.is_object()) return invalid(path + ": expected an object");
  if (!settings.enabled)
    return invalid(path + ": outbound HTTP is disabled by the plugin's operator");
  sandbox::HttpPolicy policy;
  std::optional<HttpAllowList> allowed;
  for (const auto& [key, value] : http.items()) {
    if (key == "allowed_hosts") {
      auto parsed = HttpAllowList::parse(value, path + ".allowed_hosts");
      if (!parsed) return parsed.error();
      if (parsed->size() > settings.max_allowed_hosts) {
        return invalid(path + ".allowed_hosts: " + std::to_string(parsed->size()) +
                       " entries, the plugin allows at most " +
                       std::to_string(settings.max_allowed_hosts));
      }
      allowed = std::move(*parsed);
    } else if (key == "max_concurrent_requests") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() == 0 ||
          value.get<std::uint64_t>() > settings.max_concurrent_requests) {
        return invalid(path + ".max_concurrent_requests: expected a number from 1 to " +
                       std::to_string(settings.max_concurrent_requests));
      }
      policy.max_concurrent_requests = value.get<std::uint32_t>();
    } else {
      return invalid(path + "." + key + ": unknown field (allowed_hosts, max_concurrent_requests)");
    }
  }
  if (!allowed) allowed = HttpAllowList{};  // http: {} grants nothing
  const AddressDenyList deny = settings.deny;
  policy.refusal = [allowed = std::move(*allowed),
                    deny](const std::string& url) -> std::optional<sandbox::HttpRefusal> {
    if (auto refused = allowed.refusal(url)) return refused;
    // An IP literal in a denied range is refused before any connection is tried.
    if (auto parsed = parse_url(url)) {
      if (auto range = deny.denying_range(parsed->host))
        return sandbox::HttpRefusal{
            parsed->host + " is in " + *range + ", which the plugin's operator denies", false};
    }
    return std::nullopt;
  };
  policy.address_refusal = [deny](const std::string& address) -> std::optional<std::string> {
    if (auto range = deny.denying_range(address))
      return address + " is in " + *range + ", which the plugin's operator denies";
    return std::nullopt;
  };
  policy.max_requests = settings.max_requests;
  policy.max_response_bytes = settings.max_response_bytes;
  policy.request_timeout = settings.request_timeout;
  policy.transport = transport;
  return std::optional<sandbox::HttpPolicy>(std::move(policy));
}

}  // namespace wwp::executor
