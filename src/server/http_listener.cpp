#include "server/http_listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace wwp::server {

using Clock = std::chrono::steady_clock;

std::string HttpRequest::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return "";
}

namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// After a body this large is freed the heap is trimmed, so a burst does not stay resident.
constexpr std::uint64_t kTrimAfterBytes = 1ULL << 20;
// How long a connection closed by us keeps draining what the client still sends, so that the
// client reads our error reply instead of a reset.
constexpr std::chrono::milliseconds kLinger{2000};

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Status";
  }
}

std::string serialize(const HttpReply& reply, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + reason_phrase(reply.status) +
                    "\r\nContent-Type: " + reply.content_type +
                    "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  out += reply.body;
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

struct Head {
  HttpRequest request;
  bool http10 = false;
};

// The request line and header lines (without the blank line). Errors are the 400 reply's text.
Result<Head> parse_head(std::string_view text) {
  Head head;
  std::size_t line_end = text.find("\r\n");
  std::string_view line = text.substr(0, line_end);
  auto first_space = line.find(' ');
  auto last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space)
    return invalid("malformed request line");
  head.request.method = std::string(line.substr(0, first_space));
  head.request.target = std::string(line.substr(first_space + 1, last_space - first_space - 1));
  std::string_view version = line.substr(last_space + 1);
  if (version == "HTTP/1.0") {
    head.http10 = true;
  } else if (version != "HTTP/1.1") {
    return invalid("unsupported protocol version");
  }
  if (head.request.method.empty() || head.request.target.empty() ||
      head.request.target.find(' ') != std::string::npos)
    return invalid("malformed request line");
  while (line_end != std::string_view::npos) {
    std::size_t start = line_end + 2;
    line_end = text.find("\r\n", start);
    line = text.substr(
        start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
    if (line.empty()) continue;
    auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos || line.front() == ' ' ||
        line.front() == '\t' || line.substr(0, colon).find_first_of(" \t") != std::string::npos)
      return invalid("malformed header line");
    head.request.headers.emplace_back(lower(line.substr(0, colon)),
                                      std::string(trim(line.substr(colon + 1))));
  }
  return head;
}

// The declared body length; two different declarations would let a proxy and us disagree.
Result<std::uint64_t> content_length(const HttpRequest& request) {
  std::optional<std::uint64_t> length;
  for (const auto& [name, value] : request.headers) {
    if (name != "content-length") continue;
    if (value.empty() || value.size() > 18 ||
        value.find_first_not_of("0123456789") != std::string::npos)
      return invalid("malformed Content-Length");
    std::uint64_t parsed = std::stoull(value);
    if (length && *length != parsed) return invalid("conflicting Content-Length headers");
    length = parsed;
  }
  return length.value_or(0);
}

bool expects_continue(const HttpRequest& request) {
  return lower(request.header("expect")) == "100-continue";
}

enum class Phase {
  Idle,      // kept alive, waiting for the next request
  Headers,   // reading the request line and headers
  Body,      // reading a body that will be handled
  Skip,      // discarding the body of a request that was already answered
  Handling,  // a worker has the request
  Closing,   // writing the last reply
  Lingering  // reply written and write side shut; discarding input until the client closes
};

struct Conn {
  int fd = -1;
  Phase phase = Phase::Idle;
  std::string in;
  std::string out;
  std::size_t out_sent = 0;
  Clock::time_point since;     // start of the current phase (eviction picks the oldest)
  Clock::time_point deadline;  // of the current phase; unused while Handling
  Clock::time_point write_deadline;
  HttpRequest request;
  std::uint64_t body_expected = 0;
  std::uint64_t skip = 0;
  std::uint64_t reserved = 0;  // budget held while the body is read
  bool close_after_reply = false;
};

struct Job {
  std::uint64_t conn;
  HttpRequest request;
  std::uint64_t reserved;
};

struct Done {
  std::uint64_t conn;
  HttpReply reply;
};

}  // namespace

struct HttpListener::State {
  std::string name;
  ListenerLimits limits;
  Routes routes;
  int listen_fd = -1;
  int wake_fd = -1;
  std::atomic<std::uint64_t> budget_used{0};
  std::atomic<bool> stopping{false};
  std::atomic<std::int64_t> finish_within_ms{5000};

  // Shared with the workers.
  std::mutex mutex;
  std::condition_variable has_job;
  std::deque<Job> jobs;
  std::vector<Done> done;
  bool workers_quit = false;
  std::vector<std::thread> workers;

  // Poll thread only.
  std::map<std::uint64_t, Conn> conns;
  std::uint64_t next_id = 1;

  void wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  bool reserve(std::uint64_t bytes) {
    std::uint64_t used = budget_used.load();
    do {
      if (used + bytes > limits.body_budget_bytes) return false;
    } while (!budget_used.compare_exchange_weak(used, used + bytes));
    return true;
  }
  void release(std::uint64_t bytes) { budget_used -= bytes; }

  void work() {
    std::unique_lock lock(mutex);
    while (true) {
      has_job.wait(lock, [this] { return workers_quit || !jobs.empty(); });
      if (jobs.empty()) return;
      Job job = std::move(jobs.front());
      jobs.pop_front();
      lock.unlock();
      HttpReply reply;
      try {
        reply = routes.handle(job.request);
      } catch (const std::exception& e) {
        reply = {500, std::string("internal error: ") + e.what() + "\n"};
      }
      job.request = HttpRequest{};  // the body's memory goes back before the budget does
      release(job.reserved);
      if (job.reserved >= kTrimAfterBytes) ::malloc_trim(0);
      lock.lock();
      done.push_back({job.conn, std::move(reply)});
      wake();
    }
  }

  void queue_reply(Conn& c, const HttpReply& reply, bool close) {
    if (c.out.empty()) c.write_deadline = Clock::now() + limits.write_timeout;
    c.close_after_reply = c.close_after_reply || close;
    c.out += serialize(reply, c.close_after_reply);
  }

  // Answers and closes: for malformed or unacceptable requests, whose rest cannot be trusted.
  void refuse(Conn& c, int status, const std::string& message) {
    release(c.reserved);
    c.reserved = 0;
    queue_reply(c, {status, message + "\n"}, /*close=*/true);
    c.phase = Phase::Closing;
    c.in.clear();
  }

  // Answers before the body is read; the body, if any, is then discarded unread, or the
  // connection closed after the reply.
  void answer_before_body(Conn& c, const HttpReply& reply, std::uint64_t length, bool close,
                          Clock::time_point now) {
    queue_reply(c, reply, close);
    if (close) {
      c.phase = Phase::Closing;
      c.in.clear();
      return;
    }
    c.skip = length;
    c.phase = Phase::Skip;
    c.deadline = now + limits.body_timeout;
  }

  void become_idle(Conn& c, Clock::time_point now) {
    c.phase = c.close_after_reply ? Phase::Closing : Phase::Idle;
    c.since = now;
    c.deadline = now + limits.idle_timeout;
  }

  // Moves the connection through as many phases as the bytes received allow.
  void advance(std::uint64_t id, Conn& c) {
    const auto now = Clock::now();
    while (true) {
      switch (c.phase) {
        case Phase::Idle:
          if (c.in.empty() || stopping) return;
          c.phase = Phase::Headers;
          c.since = now;
          c.deadline = now + limits.header_timeout;
          break;
        case Phase::Headers: {
          const auto end = c.in.find("\r\n\r\n");
          if (end == std::string::npos ? c.in.size() > limits.max_header_bytes
                                       : end + 4 > limits.max_header_bytes) {
            return refuse(
                c, 431,
                "request headers exceed " + std::to_string(limits.max_header_bytes) + " bytes");
          }
          if (end == std::string::npos) return;
          auto head = parse_head(std::string_view(c.in).substr(0, end));
          if (!head) return refuse(c, 400, head.error().message);
          c.in.erase(0, end + 4);
          HttpRequest request = std::move(head->request);
          auto length = content_length(request);
          if (!length) return refuse(c, 400, length.error().message);
          if (!request.header("transfer-encoding").empty()) {
            return refuse(c, 411, "chunked request bodies are not supported; send Content-Length");
          }
          const std::string connection = lower(request.header("connection"));
          if (head->http10 || connection == "close") c.close_after_reply = true;
          if (auto early = routes.on_headers(request)) {
            // Discarding a body costs no memory, only time; beyond the largest body we would
            // accept, closing (after a short linger) is cheaper. A client that expects
            // "100 Continue" will not send the body after a final answer: close too.
            answer_before_body(
                c, *early, *length,
                *length > limits.max_body_bytes || (*length > 0 && expects_continue(request)), now);
            if (c.phase == Phase::Closing) return;
            break;
          }
          if (*length > limits.max_body_bytes) {
            return refuse(c, 413,
                          "request body of " + std::to_string(*length) + " bytes exceeds " +
                              std::to_string(limits.max_body_bytes) + " bytes");
          }
          if (!routes.handle || limits.workers == 0) return refuse(c, 404, "not found");
          if (!reserve(*length)) {
            answer_before_body(c,
                               {503, "the server is busy reading other requests (" +
                                         std::to_string(limits.body_budget_bytes >> 20) +
                                         " MiB of request bodies in flight); retry later\n"},
                               *length, *length > 0 && expects_continue(request), now);
            if (c.phase == Phase::Closing) return;
            break;
          }
          c.reserved = *length;
          c.body_expected = *length;
          c.request = std::move(request);
          c.request.body.reserve(*length);
          if (expects_continue(c.request) && *length > 0) {
            if (c.out.empty()) c.write_deadline = now + limits.write_timeout;
            c.out += "HTTP/1.1 100 Continue\r\n\r\n";
          }
          c.phase = Phase::Body;
          c.deadline = now + limits.body_timeout;
          break;
        }
        case Phase::Body: {
          const std::size_t take = static_cast<std::size_t>(
              std::min<std::uint64_t>(c.body_expected - c.request.body.size(), c.in.size()));
          c.request.body.append(c.in, 0, take);
          c.in.erase(0, take);
          if (c.request.body.size() < c.body_expected) return;
          c.phase = Phase::Handling;
          {
            std::lock_guard lock(mutex);
            jobs.push_back({id, std::move(c.request), c.reserved});
          }
          c.request = HttpRequest{};
          c.reserved = 0;
          has_job.notify_one();
          return;
        }
        case Phase::Skip: {
          const std::size_t take =
              static_cast<std::size_t>(std::min<std::uint64_t>(c.skip, c.in.size()));
          c.in.erase(0, take);
          c.skip -= take;
          if (c.skip > 0) return;
          become_idle(c, now);
          if (c.phase == Phase::Closing) return;
          break;
        }
        case Phase::Handling:
        case Phase::Closing:
          return;
        case Phase::Lingering:
          c.in.clear();
          return;
      }
    }
  }

  // False when the connection is finished and must be closed.
  bool flush(Conn& c) {
    while (c.out_sent < c.out.size()) {
      ssize_t n = ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno == EAGAIN || errno == EWOULDBLOCK;
      }
      c.out_sent += static_cast<std::size_t>(n);
    }
    c.out.clear();
    c.out_sent = 0;
    if (c.phase == Phase::Closing) {
      ::shutdown(c.fd, SHUT_WR);
      c.phase = Phase::Lingering;
      c.deadline = Clock::now() + kLinger;
    }
    return true;
  }

  // False on end of stream or error.
  bool receive(Conn& c) {
    char buffer[kReadChunk];
    ssize_t n = ::recv(c.fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (n == 0) return false;
    c.in.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  void close_conn(std::map<std::uint64_t, Conn>::iterator it) {
    release(it->second.reserved);
    ::close(it->second.fd);
    conns.erase(it);
  }

  bool wants_input(const Conn& c) const {
    switch (c.phase) {
      case Phase::Idle:
        return c.out.empty();  // pipelined requests wait until earlier replies are out
      case Phase::Headers:
      case Phase::Body:
      case Phase::Skip:
        // A client that sends requests without reading the replies is not read either, so the
        // replies it does not collect stay bounded.
        return c.out.size() < kReadChunk;
      case Phase::Lingering:
        return true;
      case Phase::Handling:
      case Phase::Closing:
        return false;
    }
    return false;
  }

  void accept_all() {
    while (true) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
          spdlog::warn("{}: accept failed: {}", name, std::strerror(errno));
        return;
      }
      if (conns.size() >= limits.max_connections && !evict_one()) {
        ::close(fd);
        continue;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      const auto now = Clock::now();
      Conn c;
      c.fd = fd;
      c.since = now;
      c.deadline = now + limits.header_timeout;  // a new connection must start its request soon
      conns.emplace(next_id++, std::move(c));
    }
  }

  // Makes room by closing the connection that has waited longest without a request in hand.
  bool evict_one() {
    auto victim = conns.end();
    for (auto it = conns.begin(); it != conns.end(); ++it) {
      const Phase p = it->second.phase;
      if ((p == Phase::Idle || p == Phase::Headers || p == Phase::Lingering) &&
          it->second.out.empty() &&
          (victim == conns.end() || it->second.since < victim->second.since))
        victim = it;
    }
    if (victim == conns.end()) return false;
    close_conn(victim);
    return true;
  }

  void deliver_replies() {
    std::uint64_t counter = 0;
    [[maybe_unused]] auto n = ::read(wake_fd, &counter, sizeof counter);
    std::vector<Done> ready;
    {
      std::lock_guard lock(mutex);
      ready.swap(done);
    }
    const auto now = Clock::now();
    for (auto& d : ready) {
      auto it = conns.find(d.conn);
      if (it == conns.end()) continue;  // the client went away meanwhile
      Conn& c = it->second;
      queue_reply(c, d.reply, stopping.load());
      become_idle(c, now);
      advance(it->first, c);
    }
  }

  void expire(Clock::time_point now) {
    for (auto it = conns.begin(); it != conns.end();) {
      Conn& c = it->second;
      const bool write_late = !c.out.empty() && now >= c.write_deadline;
      const bool read_late = c.phase != Phase::Handling && c.phase != Phase::Closing &&
                             c.out.empty() && now >= c.deadline;
      if (write_late || (read_late && (c.phase == Phase::Idle || c.phase == Phase::Skip ||
                                       c.phase == Phase::Lingering))) {
        auto next = std::next(it);
        close_conn(it);
        it = next;
        continue;
      }
      if (read_late) {  // Headers or Body: the client is too slow; tell it why
        refuse(c, 408,
               c.phase == Phase::Headers ? "request headers not received within " +
                                               std::to_string(limits.header_timeout.count()) + "ms"
                                         : "request body not received within " +
                                               std::to_string(limits.body_timeout.count()) + "ms");
        if (!flush(c)) {
          auto next = std::next(it);
          close_conn(it);
          it = next;
          continue;
        }
      }
      ++it;
    }
  }

  std::optional<Clock::time_point> next_deadline() const {
    std::optional<Clock::time_point> next;
    for (const auto& [id, c] : conns) {
      if (!c.out.empty()) next = next ? std::min(*next, c.write_deadline) : c.write_deadline;
      if (c.phase != Phase::Handling && c.phase != Phase::Closing)
        next = next ? std::min(*next, c.deadline) : c.deadline;
    }
    return next;
  }

  std::size_t busy_connections() const {
    std::size_t busy = 0;
    for (const auto& [id, c] : conns) busy += c.phase == Phase::Handling || !c.out.empty();
    return busy;
  }

  void stop_workers() {
    {
      std::lock_guard lock(mutex);
      workers_quit = true;
    }
    has_job.notify_all();
    for (auto& worker : workers) {
      if (worker.joinable()) worker.join();
    }
    workers.clear();
  }
};

HttpListener::HttpListener(std::string name, ListenerLimits limits, Routes routes)
    : state_(std::make_unique<State>()) {
  state_->name = std::move(name);
  state_->limits = limits;
  state_->routes = std::move(routes);
  state_->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

HttpListener::~HttpListener() {
  state_->stop_workers();
  for (auto& [id, c] : state_->conns) ::close(c.fd);
  if (state_->listen_fd >= 0) ::close(state_->listen_fd);
  if (state_->wake_fd >= 0) ::close(state_->wake_fd);
}

std::uint64_t HttpListener::body_bytes_in_use() const { return state_->budget_used.load(); }

Result<int> HttpListener::bind(const std::string& address, int port) {
  const std::string where = address + ":" + std::to_string(port);
  if (state_->wake_fd < 0)
    return failed("cannot create an eventfd: " + std::string(strerror(errno)));
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
  state_->finish_within_ms = finish_within.count();
  state_->stopping = true;
  state_->wake();
}

Result<Ok> HttpListener::run() {
  State& s = *state_;
  if (s.listen_fd < 0) return failed(s.name + ": not listening");
  for (std::size_t i = 0; i < s.limits.workers; ++i) s.workers.emplace_back([&s] { s.work(); });
  std::optional<Clock::time_point> stop_deadline;
  std::vector<pollfd> fds;
  std::vector<std::uint64_t> ids;
  while (true) {
    auto now = Clock::now();
    if (s.stopping && !stop_deadline) {
      stop_deadline = now + std::chrono::milliseconds(s.finish_within_ms.load());
      ::close(s.listen_fd);
      s.listen_fd = -1;
    }
    if (stop_deadline) {
      // Requests not yet being handled are dropped; handled ones get their reply first.
      for (auto it = s.conns.begin(); it != s.conns.end();) {
        const Conn& c = it->second;
        auto next = std::next(it);
        if (c.phase != Phase::Handling && c.out.empty()) s.close_conn(it);
        it = next;
      }
      if (s.busy_connections() == 0 || now >= *stop_deadline) break;
    }
    fds.clear();
    ids.clear();
    fds.push_back({s.wake_fd, POLLIN, 0});
    if (s.listen_fd >= 0) fds.push_back({s.listen_fd, POLLIN, 0});
    for (const auto& [id, c] : s.conns) {
      short events = 0;
      if (s.wants_input(c)) events |= POLLIN;
      if (!c.out.empty()) events |= POLLOUT;
      fds.push_back({c.fd, events, 0});
      ids.push_back(id);
    }
    auto wait = std::chrono::milliseconds(1000);
    if (auto next = s.next_deadline()) {
      wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*next - now) +
                            std::chrono::milliseconds(1),
                        std::chrono::milliseconds(0), wait);
    }
    if (stop_deadline) wait = std::min(wait, std::chrono::milliseconds(100));
    int ready = ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    if (ready < 0 && errno != EINTR) {
      const std::string reason = std::strerror(errno);
      s.stop_workers();
      return failed(s.name + ": poll failed: " + reason);
    }
    const std::size_t first_conn = s.listen_fd >= 0 ? 2 : 1;
    if (ready > 0) {
      for (std::size_t i = first_conn; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        auto it = s.conns.find(ids[i - first_conn]);
        if (it == s.conns.end()) continue;
        Conn& c = it->second;
        bool alive = true;
        if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
          if (s.wants_input(c)) {
            alive = s.receive(c);
            if (alive) s.advance(it->first, c);
          } else if (fds[i].revents & (POLLERR | POLLHUP)) {  // gone while we work
            alive = false;
          }
        }
        if (alive && !c.out.empty()) alive = s.flush(c);
        if (alive && c.out.empty() && c.phase == Phase::Idle && !c.in.empty()) {
          s.advance(it->first, c);  // pipelined requests whose turn has come
          if (!c.out.empty()) alive = s.flush(c);
        }
        if (!alive) s.close_conn(it);
      }
      if (fds[0].revents & POLLIN) {
        s.deliver_replies();
        for (auto it = s.conns.begin(); it != s.conns.end();) {
          auto next = std::next(it);
          if (!it->second.out.empty() && !s.flush(it->second)) s.close_conn(it);
          it = next;
        }
      }
      if (s.listen_fd >= 0 && (fds[1].revents & POLLIN)) s.accept_all();
    }
    s.expire(Clock::now());
  }
  for (auto& [id, c] : s.conns) ::close(c.fd);
  s.conns.clear();
  s.stop_workers();
  return Ok{};
}

}  // namespace wwp::server
