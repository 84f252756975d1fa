#include "server/plugin_server.hpp"

#include <spdlog/spdlog.h>

#include "common/units.hpp"
#include "telemetry/plugin_metrics.hpp"

namespace wwp::server {

namespace {

// Argo's agent puts a non-200 body verbatim into the node's message ("403 Forbidden: <body>"), so
// errors are plain text.
std::string error_body(std::string_view message) { return std::string(message) + "\n"; }

std::string elapsed_text(std::chrono::steady_clock::duration elapsed) {
  return format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed) / 1000 *
                         1000);
}

constexpr std::string_view kExecutePath = "/api/v1/template.execute";

ListenerLimits listener_limits(const ServerSettings& s, std::size_t workers) {
  ListenerLimits limits;
  limits.max_body_bytes = s.max_body_bytes;
  limits.body_budget_bytes = s.body_budget_bytes;
  limits.header_timeout = s.header_timeout;
  limits.body_timeout = s.body_timeout;
  limits.idle_timeout = s.idle_timeout;
  limits.max_connections = s.max_connections;
  limits.workers = workers;
  return limits;
}

// Holds one of the limited places for calls waiting on a step.
class WaitingSlot {
 public:
  WaitingSlot(std::atomic<std::size_t>& count, std::size_t limit) : count_(count) {
    taken_ = count_.fetch_add(1) < limit;
    if (!taken_) --count_;
  }
  ~WaitingSlot() {
    if (taken_) --count_;
  }
  WaitingSlot(const WaitingSlot&) = delete;
  WaitingSlot& operator=(const WaitingSlot&) = delete;
  bool taken() const { return taken_; }

 private:
  std::atomic<std::size_t>& count_;
  bool taken_ = false;
};

}  // namespace

PluginServer::PluginServer(ServerSettings settings, BearerAuth auth, StepRunner runner)
    : settings_(std::move(settings)),
      auth_(std::move(auth)),
      runner_(std::move(runner)),
      steps_(settings_.result_ttl),
      queue_(settings_.max_concurrency, settings_.queue_capacity) {
  http_ = std::make_unique<HttpListener>(
      "http", listener_limits(settings_, settings_.http_threads),
      HttpListener::Routes{[this](const HttpRequest& request) { return route(request, true); },
                           [this](HttpRequest& request) { return run_on_event_thread(request); },
                           [this](HttpRequest& request) {
                             Reply reply = execute(request);
                             return HttpReply{
                                 reply.status, std::move(reply.body),
                                 reply.status == 200 ? "application/json" : "text/plain"};
                           }});
  if (settings_.health_port >= 0) {
    health_ = std::make_unique<HttpListener>(
        "health", listener_limits(settings_, 0),
        HttpListener::Routes{[this](const HttpRequest& request) { return route(request, false); },
                             nullptr, nullptr});
  }

  janitor_ = std::thread([this] {
    std::unique_lock lock(janitor_mutex_);
    while (!janitor_wake_.wait_for(lock, std::chrono::seconds(30),
                                   [this] { return stopping_.load(); })) {
      if (auto dropped = steps_.expire())
        spdlog::warn("dropped {} step results that were never collected", dropped);
    }
  });
}

PluginServer::~PluginServer() {
  stopping_ = true;
  grace_expired_ = true;  // queued steps must not start any more
  janitor_wake_.notify_all();
  if (janitor_.joinable()) janitor_.join();
  if (queue_.running() > 0 && settings_.on_grace_expired) settings_.on_grace_expired();
  steps_.abandon_unfinished(transient("the plugin is shutting down"));
  stop_listeners(std::chrono::milliseconds(0));
  if (health_thread_.joinable()) health_thread_.join();
  http_.reset();
  health_.reset();
}

Result<Ok> PluginServer::bind() {
  auto port = http_->bind(settings_.bind, settings_.port);
  if (!port) return port.error();
  port_ = *port;
  if (health_) {
    auto health_port = health_->bind(settings_.bind, settings_.health_port);
    if (!health_port) return health_port.error().context("--health-port");
    health_port_ = *health_port;
  }
  return Ok{};
}

Result<Ok> PluginServer::serve() {
  if (health_) {
    health_thread_ = std::thread([this] {
      if (auto served = health_->run(); !served) spdlog::error("{}", served.error().message);
    });
  }
  auto served = http_->run();
  if (health_) {
    health_->stop(std::chrono::milliseconds(0));
    if (health_thread_.joinable()) health_thread_.join();
  }
  return served;
}

void PluginServer::stop_listeners(std::chrono::milliseconds finish_within) {
  if (http_) http_->stop(finish_within);
  if (health_) health_->stop(finish_within);
}

void PluginServer::shutdown() {
  if (stopping_.exchange(true)) return;
  janitor_wake_.notify_all();
  spdlog::info("shutting down: waiting up to {}s for {} running and {} queued steps",
               settings_.shutdown_grace.count(), queue_.running(), queue_.waiting());
  // Calls already waiting for a result get it; new steps are refused with 503 meanwhile.
  if (!queue_.drain(std::chrono::steady_clock::now() + settings_.shutdown_grace)) {
    grace_expired_ = true;
    spdlog::warn("grace period over: interrupting {} running steps; {} queued ones will not start",
                 queue_.running(), queue_.waiting());
    if (settings_.on_grace_expired) settings_.on_grace_expired();
    if (!queue_.drain(std::chrono::steady_clock::now() + settings_.interrupt_wait)) {
      abandoned_ = queue_.running();
      spdlog::error("{} steps did not end within {}ms of being interrupted", abandoned_.load(),
                    settings_.interrupt_wait.count());
    }
    // Calls waiting on a step that never ended get 503 instead of waiting out requeue-wait.
    steps_.abandon_unfinished(transient("the plugin is shutting down"));
  }
  stop_listeners(std::chrono::milliseconds(5000));
}

std::optional<HttpReply> PluginServer::route(const HttpRequest& request, bool main_port) {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  // A known path with another method is as unknown as any other route (404, as before).
  auto method_is = [&](std::string_view method) -> std::optional<HttpReply> {
    if (request.method == method) return std::nullopt;
    return HttpReply{404, "not found\n"};
  };
  if (path == "/healthz") {
    if (auto wrong = method_is("GET")) return wrong;
    return HttpReply{200, "ok\n"};
  }
  if (path == "/readyz") {
    if (auto wrong = method_is("GET")) return wrong;
    if (stopping_) return HttpReply{503, "shutting down\n"};
    return HttpReply{200, "ready\n"};
  }
  if (path == "/metrics") {
    if (auto wrong = method_is("GET")) return wrong;
    return HttpReply{200, metrics_text(), "text/plain; version=0.0.4; charset=utf-8"};
  }
  if (main_port && path == kExecutePath) {
    if (auto wrong = method_is("POST")) return wrong;
    // Before the body is read: an unauthenticated client never makes us hold its bytes.
    if (!auth_.allows(request.header("authorization")))
      return HttpReply{403, error_body("invalid or missing bearer token")};
    return std::nullopt;
  }
  return HttpReply{404, "not found\n"};
}

PluginServer::Reply PluginServer::execute(HttpRequest& call) {
  // Parsed already when the event thread looked at it and left it to a worker.
  if (auto* parsed = std::any_cast<std::shared_ptr<model::ExecuteRequest>>(&call.note))
    return execute(std::move(**parsed));
  auto request = model::parse_execute_body(call.body);
  if (!request) return {400, error_body(request.error().message)};
  return execute(std::move(*request));
}

PluginServer::Reply PluginServer::execute(model::ExecuteRequest request) {
  if (!request.tmpl) return {200, "{}"};

  const std::string key = request.step_key;
  if (stopping_) {
    // The agent's follow-up calls still collect steps that are running or done.
    if (auto step = steps_.find(key)) return wait_for(key, step);
    return unavailable("shutting_down", "the plugin is shutting down");
  }
  bool created = false;
  auto step = steps_.find_or_start(key, created);
  if (created) {
    auto result = std::make_shared<Result<model::NodeResult>>(failed(""));
    auto job = [this, result, queued_at = std::chrono::steady_clock::now(),
                request = std::make_shared<model::ExecuteRequest>(std::move(request))] {
      telemetry::plugin_metrics().step_queue_wait.get().observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - queued_at).count());
      if (grace_expired_) {
        *result = transient("the plugin is shutting down; the step was not started");
        return;
      }
      *result = run_guarded(*request, nullptr);
    };
    // Published once the worker's place is free again, so that the agent's next call, which may
    // follow at once, finds the plugin idle (and may run on the event thread).
    auto publish = [step, result] { step->finish(std::move(*result)); };
    if (!queue_.submit(std::move(job), std::move(publish))) {
      steps_.forget(key, step);
      if (stopping_) return unavailable("shutting_down", "the plugin is shutting down");
      return unavailable("queue_full", "too many steps waiting (queue capacity " +
                                           std::to_string(settings_.queue_capacity) + ")");
    }
  }
  return wait_for(key, step);
}

Result<model::NodeResult> PluginServer::run_guarded(const model::ExecuteRequest& request,
                                                    BoundedAttempt* attempt) {
  const auto started = std::chrono::steady_clock::now();
  Result<model::NodeResult> result = failed("");
  try {
    result = runner_(request, attempt);
  } catch (const std::exception& e) {
    // A bug of ours must not take the server down or leave the agent waiting forever.
    model::NodeResult node;
    node.phase = model::Phase::Error;
    node.message = std::string("internal error: ") + e.what();
    result = node;
  }
  // Also for an attempt given up: one given up past its bound sends its module's next step
  // straight to a worker.
  durations_.record(request.tmpl->wasm.module.location, std::chrono::steady_clock::now() - started);
  return result;
}

// The hot path. Each hand-off between threads costs a wake-up (~30 us here when the woken
// thread's CPU idles), and a step of the plugin's quick modules takes tens of microseconds: on an
// idle plugin such a step runs on the event thread that read the call, as a bounded attempt that
// is given up (leaving nothing behind) once it takes longer than run_inline_below, so that a
// step that turns out long blocks the event thread for that long at most. Everything else, and
// every call while steps run or wait, goes the usual way (execute() on a worker).
std::optional<HttpReply> PluginServer::run_on_event_thread(HttpRequest& call) {
  if (settings_.run_inline_below.count() == 0 || stopping_ || !queue_.idle()) return std::nullopt;
  auto request = model::parse_execute_body(call.body);
  if (!request) return std::nullopt;  // the worker answers it
  if (!request->tmpl) return HttpReply{200, "{}", "application/json"};
  // Whatever is not run here goes to a worker already parsed.
  auto hand_on = [&] {
    call.note = std::make_shared<model::ExecuteRequest>(std::move(*request));
    return std::nullopt;
  };
  const auto last = durations_.last(request->tmpl->wasm.module.location);
  if (!last || *last >= settings_.run_inline_below || !model::stays_in_sandbox(*request->tmpl))
    return hand_on();
  // A call for a step already known (running, or done and not yet collected) waits for it.
  if (steps_.find(request->step_key)) return hand_on();

  BoundedAttempt attempt{std::chrono::steady_clock::now() + settings_.run_inline_below};
  Result<model::NodeResult> result = failed("");
  if (!queue_.run_here([&] { result = run_guarded(*request, &attempt); })) return hand_on();
  if (attempt.gave_up) return hand_on();
  telemetry::plugin_metrics().step_queue_wait.get().observe(0);
  Reply reply = result_reply(request->step_key, result);
  return HttpReply{reply.status, std::move(reply.body),
                   reply.status == 200 ? "application/json" : "text/plain"};
}

PluginServer::Reply PluginServer::unavailable(std::string_view reason, std::string_view message) {
  telemetry::plugin_metrics().unavailable.with({std::string(reason)}).add();
  return {503, error_body(message)};
}

std::string PluginServer::metrics_text() {
  auto& metrics = telemetry::plugin_metrics();
  // Sampled at scrape time: the queue knows them exactly, under its own lock.
  metrics.queue_depth.get().set(static_cast<double>(queue_.waiting()));
  metrics.steps_running.get().set(static_cast<double>(queue_.running()));
  return metrics.registry.render();
}

PluginServer::Reply PluginServer::running_reply(const std::shared_ptr<Step>& step) const {
  model::ExecuteReply running;
  running.node.phase = model::Phase::Running;
  running.node.message =
      "running for " + elapsed_text(std::chrono::steady_clock::now() - step->started());
  running.requeue = settings_.requeue_after;
  telemetry::plugin_metrics().requeues.get().add();
  return {200, model::to_json(running).dump()};
}

PluginServer::Reply PluginServer::wait_for(const std::string& key,
                                           const std::shared_ptr<Step>& step) {
  WaitingSlot slot(waiting_calls_, settings_.max_waiting_calls);
  // Without a slot, only a result that is already there is returned.
  const auto deadline = std::chrono::steady_clock::now() +
                        (slot.taken() ? settings_.requeue_wait : std::chrono::milliseconds(0));
  auto result = step->wait_until(deadline);
  if (!result) return running_reply(step);
  steps_.forget(key, step);
  return result_reply(key, *result);
}

PluginServer::Reply PluginServer::result_reply(const std::string& key,
                                               const Result<model::NodeResult>& result) {
  if (!result) {
    spdlog::warn("step {}: {} (answering 503)", key, result.error().message);
    return unavailable("transient", result.error().message);
  }
  // The step's own line (phase, message, resource use) is logged by whoever ran it.
  return {200, model::to_text(model::ExecuteReply{*result, std::nullopt})};
}

}  // namespace wwp::server
