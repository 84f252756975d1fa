// Caps what a step may store in its sandbox directory (bytes and files), so one module cannot fill
// the node's disk. Checked after input artifacts are placed, every `interval` while the module
// runs (a stop request ends it at the next epoch tick), and once more after it ended.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.hpp"
#include "sandbox/stop_signal.hpp"

namespace wwp::executor {

struct DiskLimits {
  std::uint64_t bytes = 1ULL << 30;
  std::uint64_t files = 100000;
};

// "disk limit 64Mi exceeded" / "disk limit of 100000 files exceeded" when the tree at `root` is
// over a limit; nullopt when it is within them. An unreadable tree is an error.
Result<std::optional<std::string>> disk_excess(const std::filesystem::path& root,
                                               const DiskLimits& limits);

// Measures `root` in a background thread while it lives and requests `stop` with the message above
// when a limit is passed. A scan that meets a tree changing under it is skipped (the check after
// the run is exact). Scans are spaced at least `interval` and at least four times their own length
// apart, so a huge tree costs a bounded share of one core.
class DiskWatch {
 public:
  DiskWatch(std::filesystem::path root, DiskLimits limits, std::chrono::milliseconds interval,
            std::shared_ptr<sandbox::StopSignal> stop);
  DiskWatch(const DiskWatch&) = delete;
  DiskWatch& operator=(const DiskWatch&) = delete;
  ~DiskWatch();

 private:
  void loop();

  std::filesystem::path root_;
  DiskLimits limits_;
  std::chrono::milliseconds interval_;
  std::shared_ptr<sandbox::StopSignal> stop_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace wwp::executor
