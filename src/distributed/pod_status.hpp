// Reads a step pod's status: still going, finished (with the node result `run` left in the
// termination message), or failed in a way the step's own result cannot say (image missing,
// unschedulable, evicted, out of memory, past its deadline).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "model/json_fields.hpp"
#include "model/node_result.hpp"

namespace wwp::distributed {

struct PodProgress {
  enum class State {
    Starting,  // not running yet (scheduling, pulling, creating)
    Running,
    Finished,  // the container ended; `result` holds the node result when `run` left one
    Failed,    // the pod will never give a result; `message` says why
  };
  State state = State::Starting;
  std::optional<model::NodeResult> result;
  std::string message;
  // Finished without a readable termination message: the result may be in the pod's log.
  bool result_in_log = false;
};

// `starting_for`: how long the pod has existed; past `start_timeout` a pod that has not started
// (image pull back-off, unschedulable) is Failed with the reason Kubernetes gives.
PodProgress classify_pod(const model::Json& pod, std::chrono::milliseconds starting_for,
                         std::chrono::milliseconds start_timeout);

// The node result in `run`'s output: the last line that is a {"node": ...} object.
std::optional<model::NodeResult> parse_run_output(const std::string& text);

}  // namespace wwp::distributed
