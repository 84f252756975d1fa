// A misbehaving peer for the fault tests: a TCP proxy on a free loopback port in front of a real
// server (docker-registry, versitygw) that forwards faithfully, or hangs, resets the connection,
// throttles, or answers garbage, as the test sets it. Faults hit the response stream of each
// connection once more than `after_bytes` of it has been forwarded, i.e. mid-body of a large
// response (a blob, an object) while the small ones before it (manifests, auth) pass.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wwp::faults::test {

class FaultyProxy {
 public:
  enum class Mode {
    Pass,         // forward both ways
    Hang,         // after `after_bytes` of a response: forward nothing more, keep the socket open
    Reset,        // after `after_bytes` of a response: close with RST (SO_LINGER 0)
    Garbage,      // answer every connection with bytes that are not HTTP, then close
    GarbageBody,  // answer every request with "200 OK" and a body that is not what was asked
    Slow,         // forward both ways at `bytes_per_second`
    // After `after_bytes` of a request (an upload): end the request stream to the server cleanly
    // (FIN) and reset the client, as when the uploading process dies mid-body.
    CutRequest,
  };

  explicit FaultyProxy(int upstream_port);
  ~FaultyProxy();
  FaultyProxy(const FaultyProxy&) = delete;
  FaultyProxy& operator=(const FaultyProxy&) = delete;

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return "http://" + host(); }

  // Applies to connections accepted from now on (and to Slow pacing of live ones).
  void set_mode(Mode mode, std::size_t after_bytes = 0);
  void set_bytes_per_second(std::size_t rate) { rate_ = rate; }
  int connections() const { return connections_.load(); }
  // Connections that got the fault (hung, reset or answered garbage).
  int faults() const { return faults_.load(); }
  // Bytes forwarded from clients to the server (request bodies: uploads).
  std::size_t request_bytes() const { return request_bytes_.load(); }

 private:
  void accept_loop();
  void serve(int client);
  void pump(int client, int upstream, Mode mode, std::size_t after_bytes);
  void hold_until_client_leaves(int client);

  int upstream_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> faults_{0};
  std::atomic<std::size_t> request_bytes_{0};
  std::atomic<std::size_t> rate_{64 * 1024};
  std::mutex mutex_;
  Mode mode_ = Mode::Pass;
  std::size_t after_bytes_ = 0;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace wwp::faults::test
