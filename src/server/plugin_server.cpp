#include "server/plugin_server.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "common/units.hpp"

namespace wwp::server {

namespace {

// Argo's agent puts a non-200 body verbatim into the node's message ("403 Forbidden: <body>"), so
// errors are plain text.
std::string error_body(std::string_view message) { return std::string(message) + "\n"; }

std::string elapsed_text(std::chrono::steady_clock::duration elapsed) {
  return format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed) / 1000 *
                         1000);
}

}  // namespace

PluginServer::PluginServer(ServerSettings settings, BearerAuth auth, StepRunner runner)
    : settings_(std::move(settings)),
      auth_(std::move(auth)),
      runner_(std::move(runner)),
      steps_(settings_.result_ttl),
      queue_(settings_.max_concurrency, settings_.queue_capacity),
      http_(std::make_unique<httplib::Server>()) {
  const std::size_t threads = settings_.http_threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(settings_.max_body_bytes);
  http_->set_keep_alive_max_count(10000);
  http_->set_tcp_nodelay(true);

  http_->Post(
      "/api/v1/template.execute", [this](const httplib::Request& req, httplib::Response& res) {
        Reply reply = execute(req.get_header_value("Authorization"), req.body);
        res.status = reply.status;
        res.set_content(reply.body, reply.status == 200 ? "application/json" : "text/plain");
      });
  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  http_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    if (stopping_) {
      res.status = 503;
      res.set_content("shutting down\n", "text/plain");
    } else {
      res.set_content("ready\n", "text/plain");
    }
  });

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
  janitor_wake_.notify_all();
  if (janitor_.joinable()) janitor_.join();
}

Result<Ok> PluginServer::bind() {
  if (settings_.port == 0) {
    port_ = http_->bind_to_any_port(settings_.bind.c_str());
    if (port_ <= 0) return failed("cannot listen on " + settings_.bind);
  } else {
    if (!http_->bind_to_port(settings_.bind.c_str(), settings_.port)) {
      return failed("cannot listen on " + settings_.bind + ":" + std::to_string(settings_.port));
    }
    port_ = settings_.port;
  }
  return Ok{};
}

void PluginServer::serve() { http_->listen_after_bind(); }

void PluginServer::shutdown() {
  if (stopping_.exchange(true)) return;
  janitor_wake_.notify_all();
  const auto deadline = std::chrono::steady_clock::now() + settings_.shutdown_grace;
  spdlog::info("shutting down: waiting up to {}s for {} running and {} queued steps",
               settings_.shutdown_grace.count(), queue_.running(), queue_.waiting());
  // Requests already waiting for a result get it; new ones are refused with 503 meanwhile.
  if (!queue_.drain(deadline)) spdlog::warn("grace period over with steps still running");
  http_->stop();
}

PluginServer::Reply PluginServer::execute(const std::string& authorization,
                                          const std::string& body) {
  if (!auth_.allows(authorization)) return {403, error_body("invalid or missing bearer token")};
  auto request = model::parse_execute_body(body);
  if (!request) return {400, error_body(request.error().message)};
  if (!request->tmpl) return {200, "{}"};
  if (stopping_) return {503, error_body("the plugin is shutting down")};

  bool created = false;
  const std::string key = request->step_key;
  auto step = steps_.find_or_start(key, created);
  if (created) {
    auto job = [this, step,
                request = std::make_shared<model::ExecuteRequest>(std::move(*request))] {
      Result<model::NodeResult> result = failed("");
      try {
        result = runner_(*request);
      } catch (const std::exception& e) {
        // A bug of ours must not take the server down or leave the agent waiting forever.
        model::NodeResult node;
        node.phase = model::Phase::Error;
        node.message = std::string("internal error: ") + e.what();
        result = node;
      }
      step->finish(std::move(result));
    };
    if (!queue_.submit(std::move(job))) {
      steps_.forget(key, step);
      return {503, error_body("too many steps waiting (queue capacity " +
                              std::to_string(settings_.queue_capacity) + ")")};
    }
  }
  return wait_for(key, step);
}

PluginServer::Reply PluginServer::wait_for(const std::string& key,
                                           const std::shared_ptr<Step>& step) {
  auto result = step->wait_until(std::chrono::steady_clock::now() + settings_.requeue_wait);
  if (!result) {
    model::ExecuteReply running;
    running.node.phase = model::Phase::Running;
    running.node.message =
        "running for " + elapsed_text(std::chrono::steady_clock::now() - step->started());
    running.requeue = settings_.requeue_after;
    return {200, model::to_json(running).dump()};
  }
  steps_.forget(key, step);
  if (!*result) {
    spdlog::warn("step {}: {} (answering 503)", key, result->error().message);
    return {503, error_body(result->error().message)};
  }
  const model::NodeResult& node = **result;
  if (node.phase != model::Phase::Succeeded)
    spdlog::info("step {} {}: {}", key, model::to_string(node.phase), node.message);
  return {200, model::to_json(model::ExecuteReply{node, std::nullopt}).dump()};
}

}  // namespace wwp::server
