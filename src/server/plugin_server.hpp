// The HTTP face of the plugin: Argo's executor-plugin endpoint plus health probes.
//
//   POST /api/v1/template.execute  {"workflow":{...},"template":{...}} -> {"node":{...}} | {}
//   GET  /healthz                   alive
//   GET  /readyz                    ready to execute (not starting, not shutting down)
//
// Status codes follow what Argo's agent does with them: 403 bad token, 400 malformed request,
// 503 overloaded or a dependency down (the agent retries), 404 unknown path.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/result.hpp"
#include "model/node_result.hpp"
#include "model/template.hpp"
#include "server/bearer_auth.hpp"
#include "server/step_tracker.hpp"
#include "server/work_queue.hpp"

namespace httplib {
class Server;
}

namespace wwp::server {

struct ServerSettings {
  std::string bind = "127.0.0.1";
  int port = 3000;  // 0 picks a free port
  std::size_t http_threads = 64;
  std::size_t max_concurrency = 2;
  std::size_t queue_capacity = 256;
  // How long a call waits for its step before answering Running; under the agent's 30 s timeout.
  std::chrono::milliseconds requeue_wait{20000};
  // The delay the Running reply asks the agent to wait before calling again.
  std::chrono::milliseconds requeue_after{5000};
  std::chrono::seconds result_ttl{600};
  std::chrono::seconds shutdown_grace{25};
  std::size_t max_body_bytes = 16ULL << 20;
};

// Runs one step; an Error is transient (503). Provided by the executor (or a fake in tests).
using StepRunner = std::function<Result<model::NodeResult>(const model::ExecuteRequest&)>;

class PluginServer {
 public:
  PluginServer(ServerSettings settings, BearerAuth auth, StepRunner runner);
  ~PluginServer();

  // Binds the listening socket; the port is known afterwards.
  Result<Ok> bind();
  int port() const { return port_; }
  // Serves until shutdown() is called from another thread.
  void serve();
  // Stops accepting, lets running steps finish within the grace period, then stops serving.
  void shutdown();

 private:
  struct Reply {
    int status;
    std::string body;
  };
  Reply execute(const std::string& authorization, const std::string& body);
  Reply wait_for(const std::string& key, const std::shared_ptr<Step>& step);

  ServerSettings settings_;
  BearerAuth auth_;
  StepRunner runner_;
  StepTracker steps_;
  WorkQueue queue_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread janitor_;
  std::mutex janitor_mutex_;
  std::condition_variable janitor_wake_;
};

}  // namespace wwp::server
