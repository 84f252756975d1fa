// A fixed pool of execution threads behind a bounded queue. When the queue is full, submit()
// refuses at once so the server can answer 503 and the agent retries later.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace wwp::server {

class WorkQueue {
 public:
  WorkQueue(std::size_t workers, std::size_t capacity);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // False when `capacity` jobs are already waiting (running jobs do not count). `then` runs after
  // the job has given its place back: a result published there finds the queue idle again.
  bool submit(std::function<void()> job, std::function<void()> then = {});
  // Runs `job` on the calling thread when nothing runs or waits (it counts as running, so at most
  // `workers` jobs run however they started); false, without running it, otherwise. Saves the
  // hand-off to a worker and back when the plugin is idle.
  bool run_here(const std::function<void()>& job);
  // Stops taking jobs and waits until queued and running jobs are done or `deadline` passes.
  // Returns whether everything finished.
  bool drain(std::chrono::steady_clock::time_point deadline);

  // Nothing runs or waits (a hint: it may change at once).
  bool idle() const;
  std::size_t waiting() const;
  std::size_t running() const;

 private:
  void work();

  std::size_t workers_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable has_work_;
  std::condition_variable idle_;
  struct Job {
    std::function<void()> run;
    std::function<void()> then;
  };
  std::deque<Job> jobs_;
  std::size_t running_ = 0;
  std::size_t finishing_ = 0;  // jobs done whose `then` is still running
  bool drained() const { return jobs_.empty() && running_ == 0 && finishing_ == 0; }
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wwp::server
