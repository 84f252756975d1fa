// Turns a template's `permissions.http` and the operator's caps into the sandbox's HttpPolicy.
//
// Allow-list entries (docs/permissions-and-limits.md, "Outbound HTTP"):
//   https://api.example.com        that scheme and host, on the scheme's default port only
//   http://127.0.0.1:8080          that scheme, host and port
//   https://*.example.com          any subdomain (a.example.com, a.b.example.com), not the apex
// Hosts compare case-insensitively, IPv6 literals in brackets; no paths, users or queries. The
// check is on the URL's host as written (and again on every redirect target); what a name
// resolves to never widens the list. The operator's deny ranges (--http-deny-cidrs) refuse IP
// literals here and every address the transport connects to.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "model/json_fields.hpp"
#include "sandbox/http_capability.hpp"

namespace wwp::executor {

struct HttpAllowEntry {
  std::string scheme;                 // "http" | "https"
  std::string host;                   // lower case; "*.example.com" for the wildcard form
  std::optional<std::uint16_t> port;  // absent: the scheme's default port
};

class HttpAllowList {
 public:
  // `entries` is permissions.http.allowed_hosts; errors name `path[i]`.
  static Result<HttpAllowList> parse(const model::Json& entries, std::string_view path);
  std::optional<sandbox::HttpRefusal> refusal(const std::string& url) const;
  std::size_t size() const { return entries_.size(); }

 private:
  std::vector<HttpAllowEntry> entries_;
};

// CIDR ranges of addresses no module may reach, whatever a template allows (e.g. cluster
// networks, cloud metadata at 169.254.0.0/16).
class AddressDenyList {
 public:
  static Result<AddressDenyList> parse(const std::vector<std::string>& cidrs);
  // The range that denies `address` (an IPv4 or IPv6 literal), if one does.
  std::optional<std::string> denying_range(const std::string& address) const;

 private:
  struct Range {
    std::string text;
    std::array<std::uint8_t, 16> bytes{};
    int family = 0;
    int prefix = 0;
  };
  std::vector<Range> ranges_;
};

// What the plugin operator allows templates to ask for (flags --http-*).
struct HttpSettings {
  bool enabled = true;
  std::size_t max_allowed_hosts = 16;
  std::uint32_t max_concurrent_requests = 32;  // cap of the template's value (default 8)
  std::uint32_t max_requests = 100;            // per step
  std::uint64_t max_response_bytes = 16ULL << 20;
  std::chrono::milliseconds request_timeout{30000};
  AddressDenyList deny;
};

// nullopt when the template grants no outbound HTTP. Errors (InvalidRequest) name the field.
Result<std::optional<sandbox::HttpPolicy>> make_http_policy(
    const model::Json& permissions, const HttpSettings& settings,
    const sandbox::HttpTransport& transport);

}  // namespace wwp::executor
