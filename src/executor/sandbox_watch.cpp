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
  return disk_excess(root, limits);
}

Result<std::optional<std::string>> disk_excess(const std::filesystem::path& root,
                                               const SandboxLimits& limits) {
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

SandboxWatcher::SandboxWatcher() {
  thread_ = std::thread([this] { loop(); });
}

SandboxWatcher::~SandboxWatcher() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

SandboxWatcher::Watch SandboxWatcher::watch(std::filesystem::path root, SandboxLimits limits,
                                            std::chrono::milliseconds interval,
                                            std::shared_ptr<sandbox::StopSignal> stop) {
  auto entry = std::make_shared<Entry>(Entry{std::move(root), limits, interval, std::move(stop),
                                             std::chrono::steady_clock::now() + interval});
  {
    std::lock_guard lock(mutex_);
    entries_.push_back(entry);
  }
  wake_.notify_all();
  return Watch(*this, std::move(entry));
}

SandboxWatcher::Watch::~Watch() {
  if (entry_) watcher_.forget(entry_);
}

void SandboxWatcher::forget(const std::shared_ptr<Entry>& entry) {
  std::unique_lock lock(mutex_);
  std::erase(entries_, entry);
  scanned_.wait(lock, [&] { return scanning_ != entry.get(); });
}

void SandboxWatcher::loop() {
  std::unique_lock lock(mutex_);
  while (!done_) {
    // The entry due first; with none (or only stopped ones), sleep until one is added.
    std::shared_ptr<Entry> next;
    for (const auto& entry : entries_)
      if (!entry->stopped && (!next || entry->due < next->due)) next = entry;
    if (!next) {
      wake_.wait(lock);
      continue;
    }
    if (std::chrono::steady_clock::now() < next->due) {
      wake_.wait_until(lock, next->due);
      continue;  // an entry may have come or gone meanwhile
    }
    scanning_ = next.get();
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    auto excess = sandbox_excess(next->root, next->limits);
    if (excess && *excess) next->stop->request({**excess, false});
    const auto finished = std::chrono::steady_clock::now();
    lock.lock();
    scanning_ = nullptr;
    scanned_.notify_all();
    // Once stopped, the step ends at the next epoch tick: no more scans are needed.
    next->stopped = next->stop->requested();
    next->due = finished + std::max<std::chrono::steady_clock::duration>(next->interval,
                                                                         4 * (finished - started));
  }
}

}  // namespace wwp::executor
