#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <thread>

#include "cli/commands.hpp"
#include "cli/distributed_settings.hpp"
#include "cli/plugin_runtime.hpp"
#include "server/plugin_server.hpp"
#include "telemetry/tracer.hpp"

namespace wwp::cli {

namespace {

// The longest --run-inline-below honoured: the event thread serves nobody else for that long.
constexpr std::chrono::milliseconds kMaxRunInlineBelow{100};

Result<server::ServerSettings> server_settings(const PluginConfig& config) {
  server::ServerSettings s;
  s.bind = config.bind;
  s.port = config.port;
  s.http_threads = std::max<std::size_t>(1, config.http_threads);
  s.health_port = config.health_port;
  s.max_waiting_calls = config.max_waiting_calls ? config.max_waiting_calls
                                                 : std::max<std::size_t>(1, s.http_threads / 2);
  auto header_timeout = duration_flag("header-timeout", config.header_timeout);
  if (!header_timeout) return header_timeout.error();
  s.header_timeout = *header_timeout;
  auto body_timeout = duration_flag("body-timeout", config.body_timeout);
  if (!body_timeout) return body_timeout.error();
  s.body_timeout = *body_timeout;
  auto request_memory = quantity_flag("request-memory", config.request_memory);
  if (!request_memory) return request_memory.error();
  s.body_budget_bytes = *request_memory;
  // In distributed mode a step's worker only follows its pod, so many run at once.
  const std::size_t default_concurrency =
      config.mode == "distributed" ? 256 : std::max(1u, std::thread::hardware_concurrency());
  s.max_concurrency = config.max_concurrency ? config.max_concurrency : default_concurrency;
  s.queue_capacity = config.queue_capacity;
  auto wait = duration_flag("requeue-wait", config.requeue_wait);
  if (!wait) return wait.error();
  s.requeue_wait = *wait;
  auto run_inline_below = duration_flag("run-inline-below", config.run_inline_below);
  if (!run_inline_below) return run_inline_below.error();
  // The event thread serves nobody else while it runs a step: a short bound, whatever is asked.
  s.run_inline_below = std::min({*run_inline_below, *wait / 4, kMaxRunInlineBelow});
  // A distributed step only follows its pod: never quick.
  if (config.mode == "distributed") s.run_inline_below = std::chrono::milliseconds(0);
  auto after = duration_flag("requeue-after", config.requeue_after);
  if (!after) return after.error();
  s.requeue_after = *after;
  auto ttl = duration_flag("result-ttl", config.result_ttl);
  if (!ttl) return ttl.error();
  s.result_ttl = std::chrono::duration_cast<std::chrono::seconds>(*ttl);
  auto grace = duration_flag("shutdown-grace", config.shutdown_grace);
  if (!grace) return grace.error();
  s.shutdown_grace = std::chrono::duration_cast<std::chrono::seconds>(*grace);
  return s;
}

}  // namespace

int serve(const PluginConfig& config) {
  if (config.mode != "local" && config.mode != "distributed") {
    spdlog::error("--mode {}: expected local or distributed", config.mode);
    return 2;
  }
  // Block termination signals in every thread; one thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto settings = server_settings(config);
  if (!settings) {
    spdlog::error("{}", settings.error().message);
    return 2;
  }
  auto auth = config.insecure_no_token ? Result<server::BearerAuth>(server::BearerAuth::disabled())
                                       : server::BearerAuth::from_file(config.token_file);
  if (!auth) {
    spdlog::error("{}", auth.error().message);
    return 2;
  }
  if (!auth->enabled())
    spdlog::warn("--insecure-no-token: accepting requests without a bearer token");
  auto runtime = PluginRuntime::create(config);
  if (!runtime) {
    spdlog::error("{}", runtime.error().message);
    return 2;
  }
  std::optional<distributed::PodRunner> pods;
  if (config.mode == "distributed") {
    auto distributed = distributed_settings(config);
    if (!distributed) {
      spdlog::error("{}", distributed.error().message);
      return 2;
    }
    auto api = kube::ApiClient::create(kube_api_options(config));
    if (!api) {
      spdlog::error("--mode distributed: {} (or give --kube-api)", api.error().message);
      return 2;
    }
    // The pods get the repository this process resolves (file or discovery), credentials included.
    distributed->artifact_repository = [&runtime = **runtime](const std::string& ns) {
      return pod_artifact_repository(runtime.artifacts(), ns);
    };
    spdlog::info("distributed mode: steps run as pods of image {} (Kubernetes API {})",
                 distributed->pod.image, api->api_server());
    pods.emplace(std::move(*api), std::move(*distributed));
  }
  executor::Executor& executor = (*runtime)->executor();
  sandbox::Engine& engine = (*runtime)->engine();
  settings->on_grace_expired = [&engine] {
    engine.interrupt_running("the plugin is shutting down (--shutdown-grace is over)");
  };
  executor.start_sweep();
  server::PluginServer server(
      *settings, std::move(*auth),
      [&executor, &pods](const model::ExecuteRequest& request,
                         BoundedAttempt* attempt) -> Result<model::NodeResult> {
        if (pods && attempt) {
          attempt->gave_up = true;  // a pod step is never quick
          return transient("distributed mode runs no step on the event thread");
        }
        if (pods) return pods->run(request);
        return executor.execute(*request.tmpl, request.workflow, request.step_key, attempt);
      });
  if (auto bound = server.bind(); !bound) {
    spdlog::error("{}", bound.error().message);
    return 2;
  }
  std::atomic<bool> serving_failed{false};
  std::thread signal_waiter([&server, &serving_failed, signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    if (serving_failed) return;  // woken by ourselves below
    spdlog::info("received {}", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    server.shutdown();
  });
  if (server.health_port() >= 0) {
    spdlog::info(
        "wasm-workflows-plugin listening on {}:{}, probes also on port {} (max {} "
        "concurrent steps)",
        settings->bind, server.port(), server.health_port(), settings->max_concurrency);
  } else {
    spdlog::info("wasm-workflows-plugin listening on {}:{} (max {} concurrent steps)",
                 settings->bind, server.port(), settings->max_concurrency);
  }
  auto served = server.serve();
  if (!served) {
    // The waiter would wait for a signal forever; send it one of those it waits for.
    serving_failed = true;
    pthread_kill(signal_waiter.native_handle(), SIGTERM);
  }
  signal_waiter.join();
  if (!served) {
    spdlog::error("{}", served.error().message);
    return 1;
  }
  if (auto abandoned = server.abandoned_steps()) {
    // Waiting for them would keep the pod past its termination grace period.
    spdlog::error("exiting with {} steps that did not stop", abandoned);
    spdlog::shutdown();
    std::_Exit(1);
  }
  // Spans of the last steps leave within a bound (a dead collector does not hold the pod).
  (*runtime)->flush_traces();
  if (auto pending = (*runtime)->compiled_cache().optimizations_pending()) {
    // A Cranelift compile of a big module takes seconds to minutes and cannot be interrupted;
    // waiting would keep the pod past its grace period. The next start compiles it again (its
    // unfinished file is a temporary one, never loaded).
    spdlog::info("stopped; not waiting for {} background compiles", pending);
    spdlog::shutdown();
    std::_Exit(0);
  }
  spdlog::info("stopped");
  return 0;
}

}  // namespace wwp::cli
