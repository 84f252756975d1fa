#include "server/step_tracker.hpp"

namespace wwp::server {

void Step::finish(Result<model::NodeResult> result) {
  {
    std::lock_guard lock(mutex_);
    if (result_) return;
    result_ = std::move(result);
    finished_at_ = std::chrono::steady_clock::now();
  }
  done_.notify_all();
}

std::optional<Result<model::NodeResult>> Step::wait_until(
    std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  done_.wait_until(lock, deadline, [this] { return result_.has_value(); });
  return result_;
}

std::optional<std::chrono::steady_clock::time_point> Step::finished_at() const {
  std::lock_guard lock(mutex_);
  if (!result_) return std::nullopt;
  return finished_at_;
}

std::shared_ptr<Step> StepTracker::find_or_start(const std::string& key, bool& created) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = steps_.try_emplace(key);
  if (inserted) it->second = std::make_shared<Step>(std::chrono::steady_clock::now());
  created = inserted;
  return it->second;
}

std::shared_ptr<Step> StepTracker::find(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = steps_.find(key);
  return it == steps_.end() ? nullptr : it->second;
}

void StepTracker::abandon_unfinished(const Error& error) {
  std::lock_guard lock(mutex_);
  for (auto& [key, step] : steps_) {
    if (!step->finished_at()) step->finish(error);
  }
}

void StepTracker::forget(const std::string& key, const std::shared_ptr<Step>& step) {
  std::lock_guard lock(mutex_);
  if (auto it = steps_.find(key); it != steps_.end() && it->second == step) steps_.erase(it);
}

std::size_t StepTracker::expire() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  std::size_t dropped = 0;
  for (auto it = steps_.begin(); it != steps_.end();) {
    auto finished = it->second->finished_at();
    if (finished && now - *finished > ttl_) {
      it = steps_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

std::size_t StepTracker::size() const {
  std::lock_guard lock(mutex_);
  return steps_.size();
}

}  // namespace wwp::server
