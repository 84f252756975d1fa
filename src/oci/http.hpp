// A small HTTP client over libcurl for registry traffic: one request at a time per call, easy
// handles pooled so that connections (and TLS sessions) are reused between requests.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace wwp::oci {

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent for POST, PUT and PATCH
  // Receives the body of a successful (2xx) response as it arrives, instead of buffering it;
  // an error aborts the transfer. Error responses are always buffered (for their message).
  std::function<Result<Ok>(std::string_view)> sink;
  std::uint64_t max_buffered_body = 4u << 20;
  std::chrono::milliseconds timeout{
      0};  // whole request; 0 means no limit (streams use a stall limit)
  std::chrono::milliseconds connect_timeout{5000};
  bool follow_redirects = true;
  bool allow_plain_http = false;  // for the request and its redirects
  std::optional<std::filesystem::path> ca_file;
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // final response, names lowercased
  std::string body;                                          // unless streamed to the sink
  std::string effective_url;                                 // after redirects

  std::optional<std::string> header(std::string_view name) const;
};

// Why a request produced no HTTP response.
enum class TransportError {
  None,
  Unreachable,  // DNS, connect, reset, nothing received: worth retrying
  Timeout,      // worth retrying
  Truncated,    // the body ended before Content-Length said
  Tls,          // certificate or handshake: configuration, not retried
  Aborted,      // the sink or the buffer limit stopped the transfer; see `aborted`
  Other,
};

struct HttpResult {
  HttpResponse response;
  TransportError transport = TransportError::None;
  std::string message;           // curl's description when transport != None
  std::optional<Error> aborted;  // the sink's error when transport == Aborted

  bool ok() const { return transport == TransportError::None; }
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Thread-safe.
  HttpResult perform(const HttpRequest& request);

 private:
  struct Handle;
  std::unique_ptr<Handle> take_handle();
  void give_back(std::unique_ptr<Handle> handle);

  std::mutex mutex_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

}  // namespace wwp::oci
