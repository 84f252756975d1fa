// HttpListener on GNU libmicrohttpd (MHD): MHD parses HTTP and drives the sockets; this file maps
// our limits onto MHD's options, runs `handle` on a worker pool while MHD holds the connection
// suspended, and adds the deadlines MHD does not have.
//
// How each ListenerLimits field is enforced:
// - max_header_bytes: MHD_OPTION_CONNECTION_MEMORY_LIMIT. The request line and headers are parsed
//   in place in the connection's memory pool of this size; a request line or headers that do not
//   fit get MHD's own 414/431 and the connection is closed. MHD's bookkeeping for the headers
//   lives in the same pool, so the usable size is slightly (tens of bytes a header) less.
// - max_body_bytes: checked against Content-Length in the access handler's first call, before any
//   of the body is read (413, connection closed). Chunked uploads get 411 the same way.
// - body_budget_bytes: the access handler's first call reserves Content-Length from a shared
//   atomic budget; a worker gives it back once `handle` returned and the body was freed. No room
//   -> 503 (see refuse() for how the body is then skipped or the connection closed).
// - header_timeout / body_timeout / idle_timeout / write_timeout: MHD only has one inactivity
//   timeout (MHD_OPTION_CONNECTION_TIMEOUT, whole seconds, reset by every byte), so a client
//   dribbling one byte a second would never hit it. A watchdog thread tracks each connection's
//   phase (via MHD_OPTION_NOTIFY_CONNECTION, the URI-log callback that MHD calls once the request
//   line is in, the access handler and MHD_OPTION_NOTIFY_COMPLETED) and enforces total deadlines:
//     header_timeout  from the connection's start (first request) or from the request line
//                     (later requests on a kept-alive connection) until the headers are in;
//     body_timeout    from the headers until the whole body is in;
//     idle_timeout    between requests on a kept-alive connection (until the next request line);
//     write_timeout   from queueing the reply until MHD reports it sent.
//   A late header or body gets "408 Request Timeout" written on the socket (MHD writes nothing in
//   those phases) and the socket is shut down, which MHD sees as the client closing; idle and
//   write deadlines shut down silently. The inactivity timeout is set above all of these as a
//   backstop. MHD cannot tell when the first byte of a request line arrives: a kept-alive
//   connection dribbling its request line is cut off by idle_timeout, not header_timeout.
// - max_connections: MHD_OPTION_CONNECTION_LIMIT (plus a small headroom); when a new connection
//   takes us over max_connections, the watchdog closes the oldest one that has no request in
//   hand (new, idle or still in its headers), so stalled clients cannot lock everyone out.
// - workers: our own pool running `handle` (grown on demand up to `workers` threads); the MHD
//   connection is suspended meanwhile
//   (MHD_ALLOW_SUSPEND_RESUME), so MHD's one epoll thread keeps serving probes and reading other
//   requests while steps run, and resumed when the reply is ready. `on_body`, when given, sees the
//   whole request on MHD's thread first and may answer at once (each hand-off wakes a thread,
//   which costs ~30 us on this 2-core VM when that thread's CPU is idle), but only while its
//   connection is the only one open.
#include "server/http_listener.hpp"

#include <arpa/inet.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>

namespace wwp::server {

using Clock = std::chrono::steady_clock;

std::string HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return "";
}

namespace {

// After a body this large is freed the heap is trimmed, so a burst does not stay resident.
constexpr std::uint64_t kTrimAfterBytes = 1ULL << 20;
// A request refused before its body (403, 404, 503) keeps its connection when the body is at most
// this large: MHD reads and drops it, then answers, so pipelined requests behind it are served.
// MHD can only answer before the body if it then closes the connection; for larger bodies that is
// cheaper than reading them.
constexpr std::uint64_t kSkipBodyBytes = 1ULL << 20;
// Connections MHD accepts beyond max_connections, so that the watchdog can evict an idle one.
constexpr unsigned kConnectionHeadroom = 16;
// Floor for the connection memory pool: MHD also builds reply headers in it.
constexpr std::size_t kMinPoolBytes = 4096;

enum class Phase {
  New,       // connected, no request line yet
  Idle,      // kept alive after a reply, no request line yet
  Headers,   // request line in, headers not yet
  Body,      // headers in, reading (or skipping) the body
  Handling,  // suspended while a worker runs `handle`
  Writing,   // reply queued
  Closing    // shut down by us; MHD will notice and close it
};

struct Tracked {
  int fd = -1;
  Phase phase = Phase::New;
  Clock::time_point since;
  Clock::time_point deadline;
};

// One request, from its request line until MHD reports it completed.
struct Exchange {
  HttpRequest request;
  bool headers_done = false;
  bool skip_body = false;          // refused: the body is read and dropped
  std::optional<HttpReply> reply;  // sent at the next access handler call
  bool handed_over = false;
  std::uint64_t reserved = 0;  // body budget held
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// What a handler's exception becomes: a bug of ours must not take the server down.
HttpReply internal_error(const std::exception& e) {
  return {500, std::string("internal error: ") + e.what() + "\n"};
}

MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
  static_cast<std::vector<std::pair<std::string, std::string>>*>(cls)->emplace_back(
      lower(key ? key : ""), value ? value : "");
  return MHD_YES;
}

}  // namespace

struct HttpListener::State {
  std::string name;
  ListenerLimits limits;
  Routes routes;
  int listen_fd = -1;
  MHD_Daemon* daemon = nullptr;
  std::atomic<std::uint64_t> budget_used{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> finish_within_ms{5000};

  std::mutex stop_mutex;
  std::condition_variable stop_requested;

  // Worker pool.
  std::mutex jobs_mutex;
  std::condition_variable has_job;
  std::deque<std::pair<MHD_Connection*, Exchange*>> jobs;
  bool workers_quit = false;
  std::vector<std::thread> workers;
  std::size_t idle_workers = 0;

  // Connection phases, shared by MHD's thread and the watchdog.
  std::mutex track_mutex;
  std::condition_variable watchdog_wake;
  std::unordered_map<MHD_Connection*, Tracked> tracked;
  bool watchdog_quit = false;
  std::thread watchdog;

  bool reserve(std::uint64_t bytes) {
    std::uint64_t used = budget_used.load();
    do {
      if (used + bytes > limits.body_budget_bytes) return false;
    } while (!budget_used.compare_exchange_weak(used, used + bytes));
    return true;
  }
  void release(std::uint64_t bytes) { budget_used -= bytes; }

  // Once a request was handled: its memory goes back before its share of the body budget does.
  void free_body(Exchange& x) {
    x.request = HttpRequest{};
    const std::uint64_t reserved = std::exchange(x.reserved, 0);
    release(reserved);
    if (reserved >= kTrimAfterBytes) ::malloc_trim(0);
  }

  void set_phase(MHD_Connection* connection, Phase phase, std::chrono::milliseconds timeout) {
    const auto now = Clock::now();
    std::lock_guard lock(track_mutex);
    auto it = tracked.find(connection);
    if (it == tracked.end() || it->second.phase == Phase::Closing) return;
    it->second.phase = phase;
    it->second.since = now;
    it->second.deadline = now + timeout;
  }

  // --- MHD callbacks (all on MHD's thread) ---------------------------------------------------

  void connection_event(MHD_Connection* connection, MHD_ConnectionNotificationCode code) {
    std::lock_guard lock(track_mutex);
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
      tracked.erase(connection);  // MHD closes the socket only after this returns
      return;
    }
    const MHD_ConnectionInfo* info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    const auto now = Clock::now();
    tracked[connection] = {info ? info->connect_fd : -1, Phase::New, now,
                           now + limits.header_timeout};
    std::size_t open = 0;
    for (const auto& [c, t] : tracked) open += t.phase != Phase::Closing;
    if (open > limits.max_connections) evict_one();
  }

  // Closes the connection that has waited longest without a request in hand.
  void evict_one() {
    Tracked* victim = nullptr;
    for (auto& [c, t] : tracked) {
      if ((t.phase == Phase::New || t.phase == Phase::Idle || t.phase == Phase::Headers) &&
          (!victim || t.since < victim->since))
        victim = &t;
    }
    if (!victim) return;
    ::shutdown(victim->fd, SHUT_RDWR);
    victim->phase = Phase::Closing;
  }

  void* request_line_in(MHD_Connection* connection) {
    const auto now = Clock::now();
    {
      std::lock_guard lock(track_mutex);
      auto it = tracked.find(connection);
      // A new connection's first request keeps the deadline counted from the connection's start.
      if (it != tracked.end() && it->second.phase == Phase::Idle) {
        it->second.phase = Phase::Headers;
        it->second.since = now;
        it->second.deadline = now + limits.header_timeout;
      } else if (it != tracked.end() && it->second.phase == Phase::New) {
        it->second.phase = Phase::Headers;
      }
    }
    return new Exchange;
  }

  void request_done(MHD_Connection* connection, void** context) {
    auto* exchange = static_cast<Exchange*>(*context);
    *context = nullptr;
    if (exchange) {
      release(exchange->reserved);  // the client left while its body was being read
      delete exchange;
    }
    set_phase(connection, Phase::Idle, limits.idle_timeout);
  }

  MHD_Result access(MHD_Connection* connection, const char* url, const char* method,
                    const char* upload_data, std::size_t* upload_size, void** context) {
    auto* exchange = static_cast<Exchange*>(*context);
    if (!exchange) *context = exchange = new Exchange;
    Exchange& x = *exchange;
    if (!x.headers_done) return headers_in(connection, x, method, url);
    if (*upload_size > 0) {
      if (!x.skip_body) x.request.body.append(upload_data, *upload_size);
      *upload_size = 0;
      return MHD_YES;
    }
    if (x.reply) return send(connection, x, *x.reply, false);
    if (x.handed_over) return MHD_NO;  // resumed without a reply: cannot happen
    if (routes.on_body && !stopping && alone()) {
      std::optional<HttpReply> reply;
      try {
        reply = routes.on_body(x.request);
      } catch (const std::exception& e) {  // never into MHD's C code
        reply = internal_error(e);
      }
      if (reply) {
        free_body(x);
        return send(connection, x, *reply, false);
      }
    }
    return hand_over(connection, x);
  }

  MHD_Result headers_in(MHD_Connection* connection, Exchange& x, const char* method,
                        const char* url) {
    x.headers_done = true;
    set_phase(connection, Phase::Body, limits.body_timeout);
    HttpRequest& request = x.request;
    request.method = method ? method : "";
    request.target = url ? url : "";
    MHD_get_connection_values(connection, MHD_HEADER_KIND, &collect_header, &request.headers);

    if (!request.header("transfer-encoding").empty())
      return send(connection, x,
                  {411, "chunked request bodies are not supported; send Content-Length\n"}, true);
    // MHD reads the body by the first Content-Length; two different ones would let a proxy and
    // us disagree where the next request starts.
    std::optional<std::string> declared;
    for (const auto& [header, value] : request.headers) {
      if (header != "content-length") continue;
      if (declared && *declared != value)
        return send(connection, x, {400, "conflicting Content-Length headers\n"}, true);
      declared = value;
    }
    // MHD already refused a malformed or overflowing value with 400 or 413.
    const std::uint64_t length = declared ? std::stoull(*declared) : 0;

    if (auto early = routes.on_headers(request)) return refuse(connection, x, *early, length);
    if (length > limits.max_body_bytes) {
      return send(connection, x,
                  {413, "request body of " + std::to_string(length) + " bytes exceeds " +
                            std::to_string(limits.max_body_bytes) + " bytes\n"},
                  true);
    }
    if (!routes.handle || limits.workers == 0)
      return refuse(connection, x, {404, "not found\n"}, length);
    if (!reserve(length)) {
      return refuse(connection, x,
                    {503, "the server is busy reading other requests (" +
                              std::to_string(limits.body_budget_bytes >> 20) +
                              " MiB of request bodies in flight); retry later\n"},
                    length);
    }
    x.reserved = length;
    request.body.reserve(length);
    return MHD_YES;
  }

  // Answers without handling. MHD can answer before the body only by closing the connection
  // afterwards, so small bodies are read and dropped first to keep the connection.
  MHD_Result refuse(MHD_Connection* connection, Exchange& x, HttpReply reply,
                    std::uint64_t length) {
    // A client expecting 100 Continue sends no body until told to: answer now (instead of the
    // 100) and close, or both sides would wait for the other until the body deadline.
    const char* expect = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Expect");
    const bool expects_continue = expect != nullptr && strcasecmp(expect, "100-continue") == 0;
    if (length > kSkipBodyBytes || expects_continue) return send(connection, x, reply, true);
    x.skip_body = true;
    x.reply = std::move(reply);
    return MHD_YES;
  }

  // `early` (still in the first call) makes MHD discard the body and close after the reply.
  MHD_Result send(MHD_Connection* connection, Exchange& x, const HttpReply& reply, bool early) {
    MHD_Response* response = MHD_create_response_from_buffer(
        reply.body.size(), const_cast<char*>(reply.body.data()), MHD_RESPMEM_MUST_COPY);
    if (!response) return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, reply.content_type.c_str());
    if (early || stopping) MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    const MHD_Result queued =
        MHD_queue_response(connection, static_cast<unsigned>(reply.status), response);
    MHD_destroy_response(response);
    x.reply.reset();
    set_phase(connection, Phase::Writing, limits.write_timeout);
    return queued;
  }

  MHD_Result hand_over(MHD_Connection* connection, Exchange& x) {
    {
      std::lock_guard lock(jobs_mutex);
      if (!workers_quit) {
        // Suspended before a worker can resume it; MHD then calls us again with the reply.
        MHD_suspend_connection(connection);
        x.handed_over = true;
        jobs.emplace_back(connection, &x);
        // The pool grows when every worker is busy, up to `workers` threads: creating them all
        // up front cost ~2 ms of start-up (64 by default), and most calls never need one.
        if (idle_workers < jobs.size() && workers.size() < limits.workers) {
          try {
            workers.emplace_back([this] { work(); });
          } catch (const std::system_error& e) {  // out of threads: the ones there will do
            spdlog::warn("{}: cannot start another worker thread: {}", name, e.what());
          }
        }
      }
    }
    if (!x.handed_over) {
      release(x.reserved);
      x.reserved = 0;
      return send(connection, x, {503, "the server is shutting down\n"}, false);
    }
    set_phase(connection, Phase::Handling, std::chrono::milliseconds(0));
    has_job.notify_one();
    return MHD_YES;
  }

  // --- workers and watchdog ------------------------------------------------------------------

  void work() {
    std::unique_lock lock(jobs_mutex);
    while (true) {
      ++idle_workers;
      has_job.wait(lock, [this] { return workers_quit || !jobs.empty(); });
      --idle_workers;
      if (jobs.empty()) return;  // quitting, and every queued request was handled
      auto [connection, exchange] = jobs.front();
      jobs.pop_front();
      lock.unlock();
      HttpReply reply;
      try {
        reply = routes.handle(exchange->request);
      } catch (const std::exception& e) {
        reply = internal_error(e);
      }
      free_body(*exchange);
      exchange->reply = std::move(reply);
      MHD_resume_connection(connection);
      lock.lock();
    }
  }

  void write_timeout_reply(int fd, const std::string& why) {
    const std::string body = why + "\n";
    const std::string text =
        "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    [[maybe_unused]] auto n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }

  void watch() {
    const auto shortest = std::min(
        {limits.header_timeout, limits.body_timeout, limits.idle_timeout, limits.write_timeout});
    const auto tick =
        std::clamp(shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
    std::unique_lock lock(track_mutex);
    while (!watchdog_quit) {
      watchdog_wake.wait_for(lock, tick);
      const auto now = Clock::now();
      const bool dropping = stopping.load();
      for (auto& [connection, t] : tracked) {
        if (t.phase == Phase::Closing || t.phase == Phase::Handling) continue;
        // When stopping, requests not yet handed to a worker are dropped.
        const bool drop = dropping && t.phase != Phase::Writing;
        if (!drop && now < t.deadline) continue;
        if (!drop && t.phase == Phase::Headers) {
          write_timeout_reply(t.fd, "request headers not received within " +
                                        std::to_string(limits.header_timeout.count()) + "ms");
        } else if (!drop && t.phase == Phase::Body) {
          write_timeout_reply(t.fd, "request body not received within " +
                                        std::to_string(limits.body_timeout.count()) + "ms");
        }
        ::shutdown(t.fd, SHUT_RDWR);
        t.phase = Phase::Closing;
      }
    }
  }

  // Whether one connection is all there is. Only then may the poll thread take a little time:
  // other clients' requests wait unread meanwhile, and under load the poll thread would end up
  // doing all the work alone (measured: steps/s at 16 connections fell to a fifth).
  bool alone() {
    std::lock_guard lock(track_mutex);
    std::size_t open = 0;
    for (const auto& [c, t] : tracked) open += t.phase != Phase::Closing;
    return open <= 1;
  }

  std::size_t busy_connections() {
    std::lock_guard lock(track_mutex);
    std::size_t busy = 0;
    for (const auto& [c, t] : tracked)
      busy += t.phase == Phase::Handling || t.phase == Phase::Writing;
    return busy;
  }

  void stop_workers() {
    {
      std::lock_guard lock(jobs_mutex);
      workers_quit = true;
    }
    has_job.notify_all();
    for (auto& worker : workers) {
      if (worker.joinable()) worker.join();
    }
    workers.clear();
  }

  void stop_watchdog() {
    {
      std::lock_guard lock(track_mutex);
      watchdog_quit = true;
    }
    watchdog_wake.notify_all();
    if (watchdog.joinable()) watchdog.join();
  }

  // --- C callbacks for MHD -------------------------------------------------------------------

  static MHD_Result on_access(void* cls, MHD_Connection* connection, const char* url,
                              const char* method, const char*, const char* upload_data,
                              std::size_t* upload_size, void** context) {
    return static_cast<State*>(cls)->access(connection, url, method, upload_data, upload_size,
                                            context);
  }

  static void* on_request_line(void* cls, const char*, MHD_Connection* connection) {
    return static_cast<State*>(cls)->request_line_in(connection);
  }

  static void on_completed(void* cls, MHD_Connection* connection, void** context,
                           MHD_RequestTerminationCode) {
    static_cast<State*>(cls)->request_done(connection, context);
  }

  static void on_connection(void* cls, MHD_Connection* connection, void**,
                            MHD_ConnectionNotificationCode code) {
    static_cast<State*>(cls)->connection_event(connection, code);
  }

  // MHD reports clients that went away, malformed requests and the like; none is our error.
  static void on_log(void* cls, const char* format, va_list args) {
    char line[512];
    std::vsnprintf(line, sizeof line, format, args);
    std::string_view text(line);
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    spdlog::debug("{}: libmicrohttpd: {}", static_cast<State*>(cls)->name, text);
  }
};

HttpListener::HttpListener(std::string name, ListenerLimits limits, Routes routes)
    : state_(std::make_unique<State>()) {
  state_->name = std::move(name);
  state_->limits = limits;
  state_->routes = std::move(routes);
}

HttpListener::~HttpListener() {
  if (state_->listen_fd >= 0) ::close(state_->listen_fd);
}

std::uint64_t HttpListener::body_bytes_in_use() const { return state_->budget_used.load(); }

Result<int> HttpListener::bind(const std::string& address, int port) {
  const std::string where = address + ":" + std::to_string(port);
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
      ::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    length = sizeof *v4;
  } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
             ::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    length = sizeof *v6;
    family = AF_INET6;
  } else {
    return invalid("cannot listen on " + where + ": not a numeric IPv4 or IPv6 address");
  }
  // Our own socket, handed to MHD in run(): bind errors name the address, and port 0 works.
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return failed("cannot listen on " + where + ": " + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 || ::listen(fd, 1024) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(fd);
    return failed("cannot listen on " + where + ": " + reason);
  }
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
  state_->listen_fd = fd;
  return family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port)
                           : ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
}

void HttpListener::stop(std::chrono::milliseconds finish_within) {
  State& s = *state_;
  {
    std::lock_guard lock(s.stop_mutex);
    s.finish_within_ms = finish_within.count();
    s.stopping = true;
  }
  s.stop_requested.notify_all();
  s.watchdog_wake.notify_all();
}

Result<Ok> HttpListener::run() {
  State& s = *state_;
  if (s.listen_fd < 0) return failed(s.name + ": not listening");
  const ListenerLimits& l = s.limits;
  const auto longest =
      std::max({l.header_timeout, l.body_timeout, l.idle_timeout, l.write_timeout});
  // The backstop behind the watchdog's deadlines (MHD counts whole seconds of inactivity).
  const auto inactivity =
      static_cast<unsigned>(std::chrono::duration_cast<std::chrono::seconds>(longest).count() + 2);
  s.daemon = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, nullptr,
      nullptr, &State::on_access, &s, MHD_OPTION_LISTEN_SOCKET, s.listen_fd,
      MHD_OPTION_CONNECTION_LIMIT,
      static_cast<unsigned>(std::min<std::size_t>(l.max_connections, 1U << 20) +
                            kConnectionHeadroom),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, std::max(l.max_header_bytes, kMinPoolBytes),
      MHD_OPTION_CONNECTION_TIMEOUT, inactivity, MHD_OPTION_NOTIFY_CONNECTION,
      &State::on_connection, &s, MHD_OPTION_URI_LOG_CALLBACK, &State::on_request_line, &s,
      MHD_OPTION_NOTIFY_COMPLETED, &State::on_completed, &s, MHD_OPTION_EXTERNAL_LOGGER,
      &State::on_log, &s, MHD_OPTION_END);
  if (!s.daemon) return failed(s.name + ": libmicrohttpd could not start serving");
  s.listen_fd = -1;  // MHD's now
  {
    std::lock_guard lock(s.jobs_mutex);
    if (l.workers > 0) s.workers.emplace_back([&s] { s.work(); });  // more on demand (hand_over)
  }
  s.watchdog = std::thread([&s] { s.watch(); });

  {
    std::unique_lock lock(s.stop_mutex);
    s.stop_requested.wait(lock, [&s] { return s.stopping.load(); });
  }
  // Stop accepting; the watchdog drops connections without a request being handled.
  if (const MHD_socket listener = MHD_quiesce_daemon(s.daemon); listener != MHD_INVALID_SOCKET)
    ::close(listener);
  const auto deadline = Clock::now() + std::chrono::milliseconds(s.finish_within_ms.load());
  while (s.busy_connections() > 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Every suspended connection is resumed by its worker before this returns: MHD must not be
  // stopped with suspended connections.
  s.stop_workers();
  s.stop_watchdog();
  MHD_stop_daemon(s.daemon);
  s.daemon = nullptr;
  return Ok{};
}

}  // namespace wwp::server
