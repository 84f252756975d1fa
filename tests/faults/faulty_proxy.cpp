#include "faulty_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace wwp::faults::test {

namespace {

using Clock = std::chrono::steady_clock;

int connect_loopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void reset(int fd) {
  linger abort{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  ::close(fd);
}

}  // namespace

FaultyProxy::FaultyProxy(int upstream_port) : upstream_port_(upstream_port) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_, 128) != 0) {
    throw std::runtime_error("faulty proxy: cannot listen");
  }
  socklen_t length = sizeof addr;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

FaultyProxy::~FaultyProxy() {
  stopping_ = true;
  acceptor_.join();
  ::close(listener_);
  for (auto& worker : workers_) worker.join();
}

void FaultyProxy::set_mode(Mode mode, std::size_t after_bytes) {
  std::lock_guard lock(mutex_);
  mode_ = mode;
  after_bytes_ = after_bytes;
}

void FaultyProxy::accept_loop() {
  while (!stopping_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ++connections_;
    std::lock_guard lock(mutex_);
    workers_.emplace_back([this, client] { serve(client); });
  }
}

void FaultyProxy::serve(int client) {
  Mode mode;
  std::size_t after_bytes;
  {
    std::lock_guard lock(mutex_);
    mode = mode_;
    after_bytes = after_bytes_;
  }
  if (mode == Mode::Garbage || mode == Mode::GarbageBody) {
    char buffer[65536];
    std::string request;
    while (!stopping_) {
      pollfd p{client, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      request.append(buffer, static_cast<std::size_t>(n));
      if (request.find("\r\n\r\n") == std::string::npos) continue;
      ++faults_;
      if (mode == Mode::Garbage) {
        static const char kNoise[] = "\x16\x03\x01\x02\x00garbage \xff\xfe not HTTP at all\r\n\r\n";
        send_all(client, kNoise, sizeof kNoise - 1);
        break;
      }
      // Headers that look fine, a body that is not JSON, XML or the blob asked for.
      const std::string body = "<<<garbage {\"not\": json]]] \x01\x02 garbage>>>";
      // One answer per connection, so that the client's next connection sees the mode of then.
      const std::string reply =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      send_all(client, reply.data(), reply.size());
      break;
    }
    ::close(client);
    return;
  }
  const int upstream = connect_loopback(upstream_port_);
  if (upstream < 0) {
    reset(client);
    return;
  }
  pump(client, upstream, mode, after_bytes);
}

void FaultyProxy::hold_until_client_leaves(int client) {
  char buffer[4096];
  while (!stopping_) {
    pollfd p{client, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    if (::recv(client, buffer, sizeof buffer, 0) <= 0) break;
  }
  ::close(client);
}

void FaultyProxy::pump(int client, int upstream, Mode mode, std::size_t after_bytes) {
  std::size_t response_bytes = 0;  // forwarded from upstream to the client
  std::size_t request_bytes = 0;   // forwarded from the client to upstream
  bool hung = false;
  char buffer[16384];
  const auto started = Clock::now();
  std::size_t paced = 0;  // bytes sent under Slow, both ways
  while (!stopping_) {
    pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
    if (::poll(fds, 2, 50) <= 0) continue;
    bool closed = false;
    for (int i = 0; i < 2 && !closed; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const int from = fds[i].fd;
      const int to = i == 0 ? upstream : client;
      // Under Slow, read small pieces so that the pacing is smooth.
      const std::size_t want =
          mode == Mode::Slow ? std::min<std::size_t>(sizeof buffer, 4096) : sizeof buffer;
      const ssize_t n = ::recv(from, buffer, want, 0);
      if (n <= 0) {
        // A hung peer holds the client's connection even when the real server is done.
        if (hung && from == upstream) {
          hold_until_client_leaves(client);
          ::close(upstream);
          return;
        }
        closed = true;
        break;
      }
      std::size_t size = static_cast<std::size_t>(n);
      if (hung) continue;  // swallow everything, answer nothing
      if (from == upstream && (mode == Mode::Hang || mode == Mode::Reset) &&
          response_bytes + size > after_bytes) {
        const std::size_t allowed = after_bytes - response_bytes;
        send_all(client, buffer, allowed);
        response_bytes += allowed;
        ++faults_;
        if (mode == Mode::Reset) {
          reset(client);
          ::close(upstream);
          return;
        }
        hung = true;
        continue;
      }
      if (from == client && mode == Mode::CutRequest && request_bytes + size > after_bytes) {
        send_all(upstream, buffer, after_bytes - request_bytes);
        ++faults_;
        ::shutdown(upstream, SHUT_WR);
        reset(client);
        // Let the server answer (and decide what to keep) before the connection goes.
        while (::recv(upstream, buffer, sizeof buffer, 0) > 0) {
        }
        ::close(upstream);
        return;
      }
      if (mode == Mode::Slow) {
        paced += size;
        const auto due = started + std::chrono::microseconds(paced * 1000000 / rate_.load());
        while (Clock::now() < due && !stopping_) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
      if (!send_all(to, buffer, size)) {
        closed = true;
        break;
      }
      if (from == upstream) {
        response_bytes += size;
      } else {
        request_bytes_ += size;
        request_bytes += size;
      }
    }
    if (closed) break;
  }
  ::close(client);
  ::close(upstream);
}

}  // namespace wwp::faults::test
