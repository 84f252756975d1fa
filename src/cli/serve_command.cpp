#include <pthread.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <thread>

#include "cli/commands.hpp"
#include "cli/plugin_runtime.hpp"
#include "server/plugin_server.hpp"

namespace wwp::cli {

namespace {

Result<server::ServerSettings> server_settings(const PluginConfig& config) {
  server::ServerSettings s;
  s.bind = config.bind;
  s.port = config.port;
  s.http_threads = config.http_threads;
  s.max_concurrency = config.max_concurrency ? config.max_concurrency
                                             : std::max(1u, std::thread::hardware_concurrency());
  s.queue_capacity = config.queue_capacity;
  auto wait = duration_flag("requeue-wait", config.requeue_wait);
  if (!wait) return wait.error();
  s.requeue_wait = *wait;
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
  if (config.mode != "local") {
    spdlog::error("--mode {}: only local mode is supported", config.mode);
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
  executor::Executor& executor = (*runtime)->executor();
  executor.start_sweep();
  server::PluginServer server(
      *settings, std::move(*auth), [&executor](const model::ExecuteRequest& request) {
        return executor.execute(*request.tmpl, request.workflow, request.step_key);
      });
  if (auto bound = server.bind(); !bound) {
    spdlog::error("{}", bound.error().message);
    return 2;
  }
  std::thread signal_waiter([&server, signals] {
    int signal = 0;
    sigwait(&signals, &signal);
    spdlog::info("received {}", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    server.shutdown();
  });
  spdlog::info("wasm-workflows-plugin listening on {}:{} (max {} concurrent steps)", settings->bind,
               server.port(), settings->max_concurrency);
  server.serve();
  // serve() returns only after shutdown(); the waiter thread is done by then.
  signal_waiter.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace wwp::cli
