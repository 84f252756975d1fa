// Outbound HTTP for modules: the `wasi_experimental_http` host module (the ABI of the
// `wasi-experimental-http` crate 0.9/0.10, which modules of the earlier implementation import).
// Deny by default: a step gets it only with a policy built by the executor from the template's
// `permissions.http` and the operator's caps; without one every request fails with error 7
// (destination not allowed). The request itself is made by a transport passed in (the plugin's
// one HTTP client), which must ask `allowed` again for every redirect target.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace wwp::sandbox {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;
  std::string url;
  HttpHeaders headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;
};

// Why a URL may not be reached: "not in permissions.http.allowed_hosts", "10.0.0.0/8 is denied by
// the plugin's operator", or an unparsable URL (error 10 instead of 7).
struct HttpRefusal {
  std::string reason;
  bool invalid_url = false;
};
using HttpRefusalCheck = std::function<std::optional<HttpRefusal>(const std::string& url)>;
// Why the transport may not connect to an address it resolved (nullopt: it may).
using AddressRefusalCheck = std::function<std::optional<std::string>(const std::string& address)>;

// Everything one request may use: the redirect check, the time and the size it may take, and
// whether the step was stopped meanwhile (the transport aborts then).
struct HttpRequestBounds {
  HttpRefusalCheck refusal;
  AddressRefusalCheck address_refusal;
  std::chrono::steady_clock::time_point deadline;
  std::uint64_t max_response_bytes = 0;
  std::function<bool()> cancelled;
};

// Errors: InvalidRequest when a redirect target is refused (error 7, the message says which),
// LimitExceeded for a body over the cap; anything else is a request error (11).
using HttpTransport =
    std::function<Result<HttpResponse>(const HttpRequest&, const HttpRequestBounds&)>;

struct HttpPolicy {
  HttpRefusalCheck refusal;
  AddressRefusalCheck address_refusal;
  std::uint32_t max_concurrent_requests = 8;  // open response handles at once (error 13 beyond)
  std::uint32_t max_requests = 100;           // per step (error 13 beyond)
  std::uint64_t max_response_bytes = 16ULL << 20;
  std::chrono::milliseconds request_timeout{30000};
  HttpTransport transport;
};

// The host module's error codes (wasi-experimental-http's HTTP_ERROR).
namespace http_error {
inline constexpr std::int32_t kSuccess = 0;
inline constexpr std::int32_t kInvalidHandle = 1;
inline constexpr std::int32_t kMemoryNotFound = 2;
inline constexpr std::int32_t kMemoryAccessError = 3;
inline constexpr std::int32_t kBufferTooSmall = 4;
inline constexpr std::int32_t kHeaderNotFound = 5;
inline constexpr std::int32_t kUtf8Error = 6;
inline constexpr std::int32_t kDestinationNotAllowed = 7;
inline constexpr std::int32_t kInvalidMethod = 8;
inline constexpr std::int32_t kInvalidEncoding = 9;
inline constexpr std::int32_t kInvalidUrl = 10;
inline constexpr std::int32_t kRequestError = 11;
inline constexpr std::int32_t kRuntimeError = 12;
inline constexpr std::int32_t kTooManySessions = 13;
}  // namespace http_error

}  // namespace wwp::sandbox
