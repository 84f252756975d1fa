#include "executor/disk_watch.hpp"

#include "artifacts/file_tree.hpp"
#include "common/units.hpp"

namespace wwp::executor {

Result<std::optional<std::string>> disk_excess(const std::filesystem::path& root,
                                               const DiskLimits& limits) {
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

DiskWatch::DiskWatch(std::filesystem::path root, DiskLimits limits,
                     std::chrono::milliseconds interval, std::shared_ptr<sandbox::StopSignal> stop)
    : root_(std::move(root)), limits_(limits), interval_(interval), stop_(std::move(stop)) {
  thread_ = std::thread([this] { loop(); });
}

DiskWatch::~DiskWatch() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void DiskWatch::loop() {
  auto pause = interval_;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, pause, [this] { return done_; })) {
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    auto excess = disk_excess(root_, limits_);
    if (excess && *excess) stop_->request({**excess, false});
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    pause = std::max(interval_, 4 * took);
    lock.lock();
    if (stop_->requested()) break;
  }
}

}  // namespace wwp::executor
