// The plugin's one HTTP client, over libcurl. Every user (OCI registries, S3, http artifacts,
// module URLs, the Kubernetes API) goes through Client::perform: one curl_global_init, one set of
// TLS and proxy rules, bodies streamed to a sink or from a source so memory does not grow with
// the size of a transfer, and redirects followed here (not by libcurl) so that each target can be
// vetted: only http(s) targets are followed, a caller may check every target, and credentials are
// dropped when a redirect leaves the original host.
//
// Retrying is the caller's business (net/retry.hpp); Outcome::transient() says whether a failure
// is the kind a retry can cure.
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

#include "common/deadline.hpp"
#include "common/result.hpp"

namespace wwp::net {

struct TransportOptions {
  std::chrono::milliseconds connect_timeout{10000};
  // A transfer slower than `stall_bytes_per_second` for `stall_timeout` is abandoned (transient):
  // a total timeout would cap the size of what can be moved, a stall limit does not.
  std::chrono::seconds stall_timeout{60};
  long stall_bytes_per_second = 1;
  bool verify_tls = true;
  std::optional<std::filesystem::path> ca_file;  // PEM bundle, in addition to the system's CAs
  // Proxies: an explicit proxy URL wins. Without one, libcurl's environment variables
  // (http_proxy, HTTPS_PROXY, NO_PROXY, ...) are honoured when `proxy_from_environment` (the
  // plugin's behaviour so far) and ignored otherwise.
  std::optional<std::string> proxy;
  bool proxy_from_environment = true;
};

// A request body that can be read from any offset, so it can be sent again (redirects, auth).
struct Body {
  std::uint64_t size = 0;
  // Copies up to `capacity` bytes starting at `offset`; returns how many were copied.
  std::function<Result<std::size_t>(std::uint64_t offset, char* buffer, std::size_t capacity)> read;

  static Body from_string(std::string bytes);
  // A byte range of an open file (read with pread, so the descriptor's offset is untouched).
  static Body from_file(int fd, std::uint64_t offset, std::uint64_t length);
};

// Receives a successful (2xx) response body as it arrives; an error aborts the transfer.
using Sink = std::function<Result<Ok>(std::string_view chunk)>;

// A sink writing into `fd` from offset 0. The file is truncated first, so every attempt of a
// retried download starts clean.
Result<Sink> file_sink(int fd);

struct Request {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::optional<Body> body;          // POST/PUT/PATCH; a POST without one sends an empty body
  // Without a sink a 2xx body is kept in Response::body up to `max_body_bytes` (more is a
  // LimitExceeded abort). Error bodies are always kept, up to 64 KiB, for their message.
  Sink sink;
  std::uint64_t max_body_bytes = 4u << 20;
  // Bounds the whole exchange, redirects included.
  Deadline deadline = kNoDeadline;
  // Redirects followed (0: a 3xx is returned as it is). Only http and https targets are followed
  // (https only with `https_only`); anything else (file://, ftp://, ...) is a permanent failure.
  int max_redirects = 0;
  // Consulted for every redirect target before it is requested; an error stops the exchange.
  std::function<Result<Ok>(std::string_view url)> check_redirect;
  // Consulted with the IP address of every connection, before the request is sent on it (what a
  // name resolved to); an error stops the exchange (Failure::Aborted).
  std::function<Result<Ok>(std::string_view address)> check_address;
  bool https_only = false;  // for the request and its redirects
  // AWS SigV4 signing by libcurl: provider string ("aws:amz:us-east-1:s3") and "ACCESS:SECRET".
  std::optional<std::string> aws_sigv4;
  std::optional<std::string> userpwd;
  TransportOptions transport;
};

struct Response {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // final response, names lowercased
  std::string body;                                          // unless streamed to the sink
  std::string url;                                           // after redirects

  std::optional<std::string> header(std::string_view name) const;
  // The Retry-After header's wait, when it has a usable one.
  std::optional<std::chrono::milliseconds> retry_after() const;
};

// Why an exchange produced no usable HTTP response.
enum class Failure {
  None,
  Unreachable,  // DNS, connect, reset, nothing received: transient
  Timeout,      // the deadline or the stall limit: transient
  Truncated,    // the body ended before Content-Length said: transient
  Tls,          // certificate or handshake: configuration, permanent
  Aborted,      // the sink or the body limit stopped the transfer; see Outcome::aborted
  Redirect,     // a redirect to a scheme we do not follow, or refused by check_redirect
  Other,        // bad URL, local I/O error, ...: permanent
};

struct Outcome {
  Response response;
  Failure failure = Failure::None;
  std::string message;           // what went wrong when failure != None
  std::optional<Error> aborted;  // the sink's or check_redirect's error

  bool ok() const { return failure == Failure::None; }
  // The one rule of net/retry.hpp: a network failure, or a transient HTTP status.
  bool transient() const;
};

class Client {
 public:
  Client();
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Thread-safe. Easy handles are pooled so connections and TLS sessions are reused.
  Outcome perform(const Request& request);

 private:
  struct Handle;
  std::unique_ptr<Handle> take_handle();
  void give_back(std::unique_ptr<Handle> handle);
  Outcome perform_once(Handle& handle, const Request& request, const std::string& url,
                       const std::string& method, const Body* body, bool send_credentials);

  std::mutex mutex_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

// libcurl's global initialisation (with OpenSSL's, which reads its configuration: ~1 ms), once
// per process. Every transfer and URL parse runs it first; calling it early, on a thread of its
// own, takes it off the caller's path (serve does so at start-up).
void global_init();

// The process's client, for users without one of their own.
Client& default_client();

}  // namespace wwp::net
