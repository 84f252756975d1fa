// A bare TCP client for what httplib's client will not do: pipelining, half-sent requests,
// dribbled headers, bodies sent from one shared buffer by many threads.
#pragma once

#include <string>
#include <string_view>

namespace wwp::testing {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; a read waits at most `read_timeout_s` (so a broken server fails
  // the test instead of hanging it).
  explicit RawConnection(int port, int read_timeout_s = 60);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // False once the server has closed or reset the connection.
  bool send(std::string_view data);

  struct Reply {
    int status = 0;  // 0: the connection ended (or timed out) before a whole reply
    std::string head;
    std::string body;
  };
  // Reads the next reply (Content-Length bodies only).
  Reply read_reply();
  // Reads until the server closes the connection; returns everything not yet consumed.
  std::string read_until_closed();

 private:
  bool fill();
  int fd_ = -1;
  std::string buffer_;
};

// "METHOD target HTTP/1.1" with Host, the given extra header lines ("Name: value\r\n" each) and
// a Content-Length for `body` (or `declared_length` if given).
std::string http_request(std::string_view method, std::string_view target,
                         std::string_view extra_headers = "", std::string_view body = "",
                         long long declared_length = -1);

}  // namespace wwp::testing
