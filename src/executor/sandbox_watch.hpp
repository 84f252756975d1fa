// Caps what a step may hold on the host through its sandbox directory: bytes and files stored in
// it, so one module cannot fill the node's disk, and files it has open, so one module cannot use up
// the process's file descriptors that every other step needs. Checked after input artifacts are
// placed, every `interval` while the module runs (a stop request ends it at the next epoch tick),
// and once more after it ended.
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
#include <vector>

#include "common/result.hpp"
#include "sandbox/stop_signal.hpp"

namespace wwp::executor {

struct SandboxLimits {
  std::uint64_t bytes = 1ULL << 30;
  std::uint64_t files = 100000;
  // Descriptors of this process open on anything under the step's directory (the module's WASI
  // files and directories: Wasmtime opens a host file for each).
  std::uint64_t open_files = 1024;
};

// "disk limit 64Mi exceeded" / "disk limit of 100000 files exceeded" / "open files limit of 1024
// exceeded" when the step at `root` is over a limit; nullopt when it is within them. An unreadable
// tree is an error.
Result<std::optional<std::string>> sandbox_excess(const std::filesystem::path& root,
                                                  const SandboxLimits& limits);

// The disk part of sandbox_excess: for when no module runs in `root`, so nothing can be open there
// (after input artifacts are placed, after the run: walking /proc/self/fd cost a readlink per
// descriptor of the process on every earlier-ABI step).
Result<std::optional<std::string>> disk_excess(const std::filesystem::path& root,
                                               const SandboxLimits& limits);

// How many of this process's file descriptors are open on `root` or below it (/proc/self/fd).
std::uint64_t open_files_under(const std::filesystem::path& root);

// Measures the directories of running steps in one background thread (a thread per step cost a
// clone and a join on every step of the earlier ABI) and requests a step's `stop` with the message
// above when it passes a limit. A scan that meets a tree changing under it is skipped (the check
// after the run is exact). A step's scans are spaced at least `interval` and at least four times
// their own length apart, so a huge tree costs a bounded share of one core.
class SandboxWatcher {
  struct Entry;

 public:
  SandboxWatcher();
  SandboxWatcher(const SandboxWatcher&) = delete;
  SandboxWatcher& operator=(const SandboxWatcher&) = delete;
  ~SandboxWatcher();

  // Scans `root` while the handle lives; its destructor waits for a scan of it in progress.
  class Watch {
   public:
    Watch(Watch&& other) noexcept : watcher_(other.watcher_), entry_(std::move(other.entry_)) {}
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    Watch& operator=(Watch&&) = delete;
    ~Watch();

   private:
    friend class SandboxWatcher;
    Watch(SandboxWatcher& watcher, std::shared_ptr<Entry> entry)
        : watcher_(watcher), entry_(std::move(entry)) {}
    SandboxWatcher& watcher_;
    std::shared_ptr<Entry> entry_;
  };

  Watch watch(std::filesystem::path root, SandboxLimits limits, std::chrono::milliseconds interval,
              std::shared_ptr<sandbox::StopSignal> stop);

 private:
  struct Entry {
    std::filesystem::path root;
    SandboxLimits limits;
    std::chrono::milliseconds interval;
    std::shared_ptr<sandbox::StopSignal> stop;
    std::chrono::steady_clock::time_point due;
    bool stopped = false;
  };
  void loop();
  void forget(const std::shared_ptr<Entry>& entry);

  std::mutex mutex_;
  std::condition_variable wake_;     // the thread: a new entry, or done
  std::condition_variable scanned_;  // a Watch's destructor: the scan of its entry ended
  std::vector<std::shared_ptr<Entry>> entries_;
  const Entry* scanning_ = nullptr;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace wwp::executor
