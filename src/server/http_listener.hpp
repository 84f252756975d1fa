// The plugin's HTTP/1.1 server, built on GNU libmicrohttpd for hostile networks: one epoll thread
// serves every connection, so a client that dribbles its headers costs a file descriptor, never a
// thread. Each request must arrive within a total deadline (headers, then body); the body is read
// only after the headers were accepted (the bearer token is checked first), and bodies being read
// share one memory budget. Complete requests go to a fixed pool of workers while their connection
// is suspended; pipelined requests are answered one after another. How each limit maps onto
// libmicrohttpd is described in http_listener.cpp.
//
// Only what Argo's agent and Kubernetes probes send is supported: Content-Length bodies (no
// chunked uploads), keep-alive, pipelining, Expect: 100-continue.
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace wwp::server {

struct HttpRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  // What `on_body` learned about the request, for `handle` (e.g. its parsed form).
  std::any note;

  // The first value of header `lower_name`, or "".
  std::string header(std::string_view lower_name) const;
};

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain";
};

struct ListenerLimits {
  std::size_t max_header_bytes = 16 * 1024;  // request line and headers
  std::size_t max_body_bytes = 16ULL << 20;
  // Memory for request bodies being read or handled, across all connections; over it -> 503.
  std::uint64_t body_budget_bytes = 64ULL << 20;
  std::chrono::milliseconds header_timeout{10000};  // from the first byte to the blank line
  std::chrono::milliseconds body_timeout{60000};    // the whole body
  // A kept-alive connection between requests. Go clients (the agent) notice an idle connection
  // being closed and open a new one; they drop idle ones themselves after 90 s.
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds write_timeout{30000};  // the whole reply
  std::size_t max_connections = 512;               // the oldest one still in its headers gives way
  std::size_t workers = 8;                         // threads running `handle`
};

class HttpListener {
 public:
  struct Routes {
    // Runs on the poll thread once the headers are in; must not block. A reply is sent at once
    // (the body, if any, is discarded unread); nullopt reads the body and calls `handle`.
    std::function<std::optional<HttpReply>(const HttpRequest&)> on_headers;
    // Runs on the poll thread with the whole request, before `handle`, when its connection is the
    // only one open; may take a little time (the poll thread serves nobody else meanwhile), never
    // long. A reply is sent at once, without the hand-off to a worker and back; nullopt hands the
    // request to `handle`. Optional.
    std::function<std::optional<HttpReply>(HttpRequest&)> on_body;
    // Runs on a worker with the whole request; may block.
    std::function<HttpReply(HttpRequest&)> handle;
  };

  HttpListener(std::string name, ListenerLimits limits, Routes routes);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds and listens; port 0 picks a free port. Returns the port.
  Result<int> bind(const std::string& address, int port);
  // Serves until stop(); returns an error if serving could not start.
  Result<Ok> run();
  // Stops accepting, finishes requests being handled and replies being written (within
  // `finish_within`), then makes run() return. Callable from any thread, more than once.
  void stop(std::chrono::milliseconds finish_within = std::chrono::milliseconds(5000));

  std::uint64_t body_bytes_in_use() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace wwp::server
