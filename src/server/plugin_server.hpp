// The HTTP face of the plugin: Argo's executor-plugin endpoint plus health probes.
//
//   POST /api/v1/template.execute  {"workflow":{...},"template":{...}} -> {"node":{...}} | {}
//   GET  /healthz                   alive
//   GET  /readyz                    ready to execute (not starting, not shutting down)
//   GET  /metrics                   Prometheus text format (also on the health port)
//
// Status codes follow what Argo's agent does with them: 403 bad token, 400 malformed request,
// 503 overloaded or a dependency down (the agent retries), 404 unknown path; the listener adds
// 408/411/413/431 for requests too slow, chunked, too large or with oversized headers.
//
// The probes are answered by the poll thread itself, never behind a step; with a health port
// they also have a listener of their own that clients of the main port cannot crowd out.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/deadline.hpp"
#include "common/result.hpp"
#include "model/node_result.hpp"
#include "model/template.hpp"
#include "server/bearer_auth.hpp"
#include "server/http_listener.hpp"
#include "server/step_durations.hpp"
#include "server/step_tracker.hpp"
#include "server/work_queue.hpp"

namespace wwp::server {

struct ServerSettings {
  std::string bind = "127.0.0.1";
  int port = 3000;  // 0 picks a free port
  // A second listener answering only /healthz and /readyz; -1: none, 0: a free port.
  int health_port = -1;
  // Workers for execute calls (parsing, and waiting for a step's result).
  std::size_t http_threads = 64;
  // Calls allowed to wait for their step at once; beyond that a call is answered Running (with
  // the requeue delay) at once, so waiting calls never take every worker.
  std::size_t max_waiting_calls = 32;
  std::size_t max_concurrency = 2;
  std::size_t queue_capacity = 256;
  // How long a call waits for its step before answering Running; under the agent's 30 s timeout.
  std::chrono::milliseconds requeue_wait{20000};
  // The delay the Running reply asks the agent to wait before calling again.
  std::chrono::milliseconds requeue_after{5000};
  // On an idle plugin, a step whose module's last step took less than this runs on the HTTP event
  // thread that read the call, bounded by this time (no hand-off to a worker and back); one that
  // cannot end within it is given up and handed to a worker. 0 turns that off.
  std::chrono::milliseconds run_inline_below{0};
  std::chrono::seconds result_ttl{600};
  std::chrono::seconds shutdown_grace{25};
  // After the grace period, how long interrupted steps get to end before the server stops.
  std::chrono::milliseconds interrupt_wait{5000};
  std::size_t max_body_bytes = 16ULL << 20;
  // Request bodies being read or handled at once, in bytes; a request beyond it gets 503.
  std::uint64_t body_budget_bytes = 64ULL << 20;
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{60000};
  std::chrono::milliseconds idle_timeout{60000};
  std::size_t max_connections = 512;
  // Called once when the grace period ends with steps still running; it should interrupt them
  // (the server itself does not know how steps run).
  std::function<void()> on_grace_expired;
};

// Runs one step; an Error is transient (503). Provided by the executor (or a fake in tests). With
// an attempt, it runs the step only if it can end by `attempt->by` without a trace, and otherwise
// sets `attempt->gave_up` (see BoundedAttempt); the result is then ignored.
using StepRunner =
    std::function<Result<model::NodeResult>(const model::ExecuteRequest&, BoundedAttempt*)>;

class PluginServer {
 public:
  PluginServer(ServerSettings settings, BearerAuth auth, StepRunner runner);
  // Stops serving and every thread it started; running steps are interrupted (on_grace_expired)
  // and queued ones dropped.
  ~PluginServer();
  PluginServer(const PluginServer&) = delete;
  PluginServer& operator=(const PluginServer&) = delete;

  // Binds the listening sockets; the ports are known afterwards.
  Result<Ok> bind();
  int port() const { return port_; }
  int health_port() const { return health_port_; }
  // Serves until shutdown() is called from another thread; an Error if serving failed.
  Result<Ok> serve();
  // Stops accepting steps, lets running ones finish within the grace period, interrupts the rest,
  // then stops serving. Steps queued when the grace period ends never start (503).
  void shutdown();
  // After serve(): steps that did not end even when interrupted; the process should exit
  // without waiting for them.
  std::size_t abandoned_steps() const { return abandoned_; }
  // Calls waiting for their step right now.
  std::size_t waiting_calls() const { return waiting_calls_; }

 private:
  struct Reply {
    int status;
    std::string body;
  };
  std::optional<HttpReply> route(const HttpRequest& request, bool main_port);
  Reply execute(HttpRequest& call);
  Reply execute(model::ExecuteRequest request);
  std::optional<HttpReply> run_on_event_thread(HttpRequest& call);
  Result<model::NodeResult> run_guarded(const model::ExecuteRequest& request,
                                        BoundedAttempt* attempt);
  Reply result_reply(const std::string& key, const Result<model::NodeResult>& result);
  Reply wait_for(const std::string& key, const std::shared_ptr<Step>& step);
  Reply running_reply(const std::shared_ptr<Step>& step) const;
  // A 503 answer, counted by reason (wwp_unavailable_responses_total).
  static Reply unavailable(std::string_view reason, std::string_view message);
  std::string metrics_text();
  void stop_listeners(std::chrono::milliseconds finish_within);

  ServerSettings settings_;
  BearerAuth auth_;
  StepRunner runner_;
  StepTracker steps_;
  StepDurations durations_;
  WorkQueue queue_;
  int port_ = 0;
  int health_port_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> grace_expired_{false};
  std::atomic<std::size_t> waiting_calls_{0};
  std::atomic<std::size_t> abandoned_{0};
  std::thread janitor_;
  std::mutex janitor_mutex_;
  std::condition_variable janitor_wake_;
  // Last: their threads call into everything above, so they go first.
  std::unique_ptr<HttpListener> http_;
  std::unique_ptr<HttpListener> health_;
  std::thread health_thread_;
};

}  // namespace wwp::server
