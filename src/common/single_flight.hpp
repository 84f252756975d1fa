// Single flight: concurrent calls for the same key share one execution of the work; the first
// caller runs it, later callers wait for its value. Exception-safe: if the work throws, every
// waiter gets the same exception (never a broken promise) and the key is free again.
#pragma once

#include <exception>
#include <future>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace wwp {

template <class Key, class Value>
class SingleFlight {
 public:
  // Runs `work()` unless a call for `key` is already running, in which case its value is shared.
  template <class Work>
  Value run(const Key& key, Work&& work) {
    std::promise<Value> promise;
    {
      std::unique_lock lock(mutex_);
      if (auto it = running_.find(key); it != running_.end()) {
        std::shared_future<Value> shared = it->second;
        lock.unlock();
        return shared.get();
      }
      running_.emplace(key, promise.get_future().share());
    }
    try {
      Value value = std::forward<Work>(work)();
      finish(key);
      promise.set_value(value);
      return value;
    } catch (...) {
      finish(key);
      promise.set_exception(std::current_exception());
      throw;
    }
  }

  // Calls currently running (for tests).
  std::size_t running() const {
    std::lock_guard lock(mutex_);
    return running_.size();
  }

 private:
  void finish(const Key& key) {
    std::lock_guard lock(mutex_);
    running_.erase(key);
  }

  mutable std::mutex mutex_;
  std::unordered_map<Key, std::shared_future<Value>> running_;
};

}  // namespace wwp
