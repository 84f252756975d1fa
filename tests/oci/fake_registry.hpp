// An in-process registry (cpp-httplib) speaking enough of the distribution API to pull, with
// hooks to inject faults (5xx/429, truncated bodies, missing digest headers, slow blobs) and
// counters to see which requests a client made.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace wwp::oci::test {

class FakeRegistry {
 public:
  FakeRegistry();
  ~FakeRegistry();

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  void stop();

  // Content. Returns the sha256 hex of what was stored.
  std::string put_blob(const std::string& bytes);
  std::string put_manifest(const std::string& repo, const std::string& tag,
                           const std::string& bytes, const std::string& media_type);
  // An OCI artifact like `push` makes; returns the manifest digest hex.
  std::string put_module(const std::string& repo, const std::string& tag, const std::string& wasm);
  void remove_tag(const std::string& repo, const std::string& tag);
  // Serves `bytes` for digest `hex` (they need not match: that is the point).
  void serve_blob_as(const std::string& hex, const std::string& bytes);

  // Faults.
  void fail_next(int count, int status, std::optional<int> retry_after_seconds = std::nullopt);
  void set_truncate_blobs(bool on) { truncate_blobs_ = on; }
  void set_omit_digest_header(bool on) { omit_digest_header_ = on; }
  void set_blob_delay(std::chrono::milliseconds delay) {
    blob_delay_ms_ = static_cast<int>(delay.count());
  }
  // Streams blobs in 16 KiB pieces with this pause before each.
  void set_slow_blobs(std::chrono::milliseconds pause) {
    slow_pause_ms_ = static_cast<int>(pause.count());
  }

  // Counters by kind: "HEAD manifest", "GET manifest", "GET blob".
  int count(const std::string& kind) const;
  void reset_counts();

 private:
  struct Manifest {
    std::string bytes;
    std::string media_type;
  };
  bool inject_failure(httplib::Response& response);
  void bump(const std::string& kind);

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> blobs_;   // hex -> bytes
  std::map<std::string, Manifest> manifests_;  // "repo@sha256:hex" -> manifest
  std::map<std::string, std::string> tags_;    // "repo:tag" -> hex
  std::map<std::string, int> counts_;
  int failures_left_ = 0;
  int failure_status_ = 503;
  std::optional<int> retry_after_;
  std::atomic<bool> truncate_blobs_{false};
  std::atomic<bool> omit_digest_header_{false};
  std::atomic<int> blob_delay_ms_{0};
  std::atomic<int> slow_pause_ms_{0};
};

}  // namespace wwp::oci::test
