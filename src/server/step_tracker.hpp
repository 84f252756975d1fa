// Remembers steps between the agent's calls. The agent gives up on a call after 30 s, so a long
// step is answered "Running" with a requeue delay and keeps running; the agent's next call for the
// same step (same workflow uid and template) finds it here and gets the result once it is done.
// Finished results wait for delivery until their TTL expires.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/result.hpp"
#include "model/node_result.hpp"

namespace wwp::server {

class Step {
 public:
  explicit Step(std::chrono::steady_clock::time_point started) : started_(started) {}

  // An Error result is transient (the agent is told 503 and will call again). The first result
  // stays: a step abandoned at shutdown may still end later.
  void finish(Result<model::NodeResult> result);
  // Waits until the step is done or `deadline`; returns the result if done.
  std::optional<Result<model::NodeResult>> wait_until(
      std::chrono::steady_clock::time_point deadline);
  std::chrono::steady_clock::time_point started() const { return started_; }
  std::optional<std::chrono::steady_clock::time_point> finished_at() const;

 private:
  const std::chrono::steady_clock::time_point started_;
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::optional<Result<model::NodeResult>> result_;
  std::chrono::steady_clock::time_point finished_at_{};
};

class StepTracker {
 public:
  explicit StepTracker(std::chrono::seconds result_ttl) : ttl_(result_ttl) {}

  // Returns the step already known under `key`, or registers a new one (`created` = true).
  std::shared_ptr<Step> find_or_start(const std::string& key, bool& created);
  // The step known under `key`, if any.
  std::shared_ptr<Step> find(const std::string& key) const;
  // Ends every unfinished step with `error` so that calls waiting on them return.
  void abandon_unfinished(const Error& error);
  // Forgets a step: after its result was delivered, or when it could not be started.
  void forget(const std::string& key, const std::shared_ptr<Step>& step);
  // Drops finished results older than the TTL that were never collected.
  std::size_t expire();
  std::size_t size() const;

 private:
  std::chrono::seconds ttl_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Step>> steps_;
};

}  // namespace wwp::server
