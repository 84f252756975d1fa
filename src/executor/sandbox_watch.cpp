#include "executor/sandbox_watch.hpp"

#include <dirent.h>
#include <unistd.h>

#include "artifacts/file_tree.hpp"
#include "common/units.hpp"

namespace wwp::executor {

std::uint64_t open_files_under(const std::filesystem::path& root) {
  const std::string prefix = root.string();
  DIR* fds = ::opendir("/proc/self/fd");
  if (fds == nullptr) return 0;
  std::uint64_t count = 0;
  char target[4096];
  const std::string fd_dir = "/proc/self/fd/";
  while (const dirent* entry = ::readdir(fds)) {
    if (entry->d_name[0] == '.') continue;
    const ssize_t length = ::readlink((fd_dir + entry->d_name).c_str(), target, sizeof target - 1);
    if (length <= 0) continue;  // closed meanwhile
    const std::string_view path(target, static_cast<std::size_t>(length));
    // `root` itself or below it; a file unlinked while open reads "<path> (deleted)".
    if (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/'))
      ++count;
  }
  ::closedir(fds);
  return count;
}

Result<std::optional<std::string>> sandbox_excess(const std::filesystem::path& root,
                                                  const SandboxLimits& limits) {
  if (open_files_under(root) > limits.open_files) {
    return std::optional<std::string>("open files limit of " + std::to_string(limits.open_files) +
                                      " exceeded");
  }
  artifacts::TreeLimits tree;
  tree.max_bytes = limits.bytes;
  tree.max_entries = limits.files;
  auto usage = artifacts::measure_tree(root, tree);
  if (!usage) return usage.error();
  switch (usage->exceeded) {
    case artifacts::TreeUsage::Exceeded::Bytes:
      return std::optional<std::string>("disk limit " + format_quantity(limits.bytes) +
                                        " exceeded");
    case artifacts::TreeUsage::Exceeded::Entries:
      return std::optional<std::string>("disk limit of " + std::to_string(limits.files) +
                                        " files exceeded");
    default:
      return std::optional<std::string>();
  }
}

SandboxWatch::SandboxWatch(std::filesystem::path root, SandboxLimits limits,
                           std::chrono::milliseconds interval,
                           std::shared_ptr<sandbox::StopSignal> stop)
    : root_(std::move(root)), limits_(limits), interval_(interval), stop_(std::move(stop)) {
  thread_ = std::thread([this] { loop(); });
}

SandboxWatch::~SandboxWatch() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void SandboxWatch::loop() {
  auto pause = interval_;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, pause, [this] { return done_; })) {
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    auto excess = sandbox_excess(root_, limits_);
    if (excess && *excess) stop_->request({**excess, false});
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    pause = std::max(interval_, 4 * took);
    lock.lock();
    if (stop_->requested()) break;
  }
}

}  // namespace wwp::executor
