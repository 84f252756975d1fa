#include "raw_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace wwp::testing {

RawConnection::RawConnection(int port, int read_timeout_s) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  timeval timeout{read_timeout_s, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawConnection::fill() {
  char chunk[65536];
  ssize_t n;
  do {
    n = ::recv(fd_, chunk, sizeof chunk, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

RawConnection::Reply RawConnection::read_reply() {
  Reply reply;
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return reply;
  }
  std::string head = buffer_.substr(0, end);
  std::size_t length = 0;
  for (std::size_t pos = head.find("\r\n"); pos != std::string::npos;
       pos = head.find("\r\n", pos + 2)) {
    std::string line = head.substr(pos + 2, head.find("\r\n", pos + 2) - pos - 2);
    for (auto& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (line.starts_with("content-length:")) length = std::strtoull(line.c_str() + 15, nullptr, 10);
  }
  while (buffer_.size() < end + 4 + length) {
    if (!fill()) return reply;
  }
  reply.status = std::atoi(head.c_str() + head.find(' ') + 1);
  reply.head = head;
  reply.body = buffer_.substr(end + 4, length);
  buffer_.erase(0, end + 4 + length);
  if (reply.status == 100) return read_reply();
  return reply;
}

std::string RawConnection::read_until_closed() {
  while (fill()) {
  }
  return std::move(buffer_);
}

std::string http_request(std::string_view method, std::string_view target,
                         std::string_view extra_headers, std::string_view body,
                         long long declared_length) {
  std::string text = std::string(method) + " " + std::string(target) +
                     " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(extra_headers);
  if (declared_length >= 0 || !body.empty() || method == "POST") {
    text += "Content-Length: " +
            std::to_string(declared_length >= 0 ? static_cast<std::size_t>(declared_length)
                                                : body.size()) +
            "\r\n";
  }
  text += "\r\n";
  text += body;
  return text;
}

}  // namespace wwp::testing
