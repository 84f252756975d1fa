#include "distributed/pod_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <thread>

#include "distributed/pod_status.hpp"

namespace wwp::distributed {

namespace {

std::string pods_path(const std::string& ns) { return "/api/v1/namespaces/" + ns + "/pods"; }
std::string secrets_path(const std::string& ns) { return "/api/v1/namespaces/" + ns + "/secrets"; }

Error refused(const std::string& what, const KubeReply& reply) {
  std::string hint;
  if (reply.status == 401 || reply.status == 403)
    hint = " (the plugin's service account needs the rights in deploy/rbac/distributed.yaml)";
  return failed("Kubernetes API: " + what + " failed with HTTP " + std::to_string(reply.status) +
                ": " + status_message(reply) + hint);
}

model::NodeResult failed_node(std::string message) {
  model::NodeResult node;
  node.phase = model::Phase::Failed;
  node.message = std::move(message);
  return node;
}

// How long the pod has existed, from its creationTimestamp (RFC 3339, UTC).
std::chrono::milliseconds age_of(const model::Json& pod) {
  const std::string created =
      pod.value("metadata", model::Json::object()).value("creationTimestamp", "");
  std::tm tm{};
  if (created.size() < 19 || strptime(created.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr)
    return std::chrono::milliseconds(0);
  const auto then = std::chrono::system_clock::from_time_t(timegm(&tm));
  const auto age = std::chrono::system_clock::now() - then;
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(age));
}

// The string at a JSON pointer, empty when absent or not a string.
std::string string_at(const model::Json& json, const char* pointer) {
  const model::Json::json_pointer at(pointer);
  if (!json.is_object() || !json.contains(at) || !json.at(at).is_string()) return "";
  return json.at(at).get<std::string>();
}

// The end of a container's log, for a message: what `run` said before it failed.
std::string with_log_tail(const std::string& log) {
  constexpr std::size_t kTail = 600;
  std::string tail = log.size() > kTail ? "..." + log.substr(log.size() - kTail) : log;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  return tail.empty() ? std::string(" (its log is empty)") : ": " + tail;
}

}  // namespace

PodRunner::PodRunner(KubeApi api, RunnerSettings settings)
    : api_(std::move(api)), settings_(std::move(settings)) {}

Result<model::NodeResult> PodRunner::run(const model::ExecuteRequest& request) const {
  if (request.workflow.ns.empty())
    return invalid("workflow.metadata.namespace: is required in distributed mode");
  WWP_TRY_ASSIGN(model::Json pod, create_or_adopt(request));
  return follow(request, std::move(pod));
}

Result<model::Json> PodRunner::create_or_adopt(const model::ExecuteRequest& request) const {
  const std::string& ns = request.workflow.ns;
  const std::string name = pod_name(request.step_key);
  // Adopt first: after a restart or a requeued call the pod is usually there already.
  WWP_TRY_ASSIGN(KubeReply existing, api_.call("GET", pods_path(ns) + "/" + name));
  if (existing.status == 200) {
    spdlog::debug("step {}: following pod {}/{} already there", request.step_key, ns, name);
    return existing.body;
  }
  if (existing.status != 404) return refused("reading pod " + ns + "/" + name, existing);

  std::optional<PodArtifactRepository> repository;
  const bool has_artifacts = request.tmpl && (!request.tmpl->input_artifacts.empty() ||
                                              !request.tmpl->output_artifacts.empty());
  if (has_artifacts && settings_.artifact_repository) {
    WWP_TRY_ASSIGN(repository, settings_.artifact_repository(ns));
  }
  const model::Json secret =
      build_request_secret(request, request_body(request, request.template_json), repository);
  WWP_TRY_ASSIGN(KubeReply made, api_.call("POST", secrets_path(ns), secret));
  if (made.status != 201 && made.status != 409)
    return refused("creating secret " + ns + "/" + name, made);
  WWP_TRY_ASSIGN(KubeReply created,
                 api_.call("POST", pods_path(ns), build_pod(request, settings_.pod, repository)));
  if (created.status == 409) {  // another call created it meanwhile
    WWP_TRY_ASSIGN(KubeReply again, api_.call("GET", pods_path(ns) + "/" + name));
    if (again.status != 200) return refused("reading pod " + ns + "/" + name, again);
    return again.body;
  }
  if (created.status != 201) {
    if (created.status == 400 || created.status == 422) {
      // The pod itself is invalid (a bad option): permanent, remove the secret.
      (void)api_.call("DELETE", secrets_path(ns) + "/" + name);
    }
    return refused("creating pod " + ns + "/" + name, created);
  }
  spdlog::info("step {}: created pod {}/{}", request.step_key, ns, name);
  return created.body;
}

Result<model::NodeResult> PodRunner::follow(const model::ExecuteRequest& request,
                                            model::Json pod) const {
  const std::string& ns = request.workflow.ns;
  const std::string name = pod_name(request.step_key);
  auto next_workflow_check = std::chrono::steady_clock::now() + settings_.workflow_check_interval;
  for (;;) {
    PodProgress progress = classify_pod(pod, age_of(pod), settings_.start_timeout);
    const bool being_deleted = pod.contains("metadata") && pod["metadata"].is_object() &&
                               pod["metadata"].contains("deletionTimestamp");
    if (being_deleted && !progress.result) {
      // Someone else deletes it: the garbage collector after its Workflow, or a person.
      (void)api_.call("DELETE", secrets_path(ns) + "/" + name);
      return failed_node("the step's pod " + ns + "/" + name +
                         " was deleted before it finished (workflow deleted or stopped?)");
    }
    switch (progress.state) {
      case PodProgress::State::Starting:
      case PodProgress::State::Running:
        break;
      case PodProgress::State::Failed:
        remove(ns, name);
        return failed_node(progress.message);
      case PodProgress::State::Finished: {
        model::NodeResult node;
        if (progress.result) {
          node = std::move(*progress.result);
        } else {
          // Bigger than a termination message: `run` printed it on stdout, which is the log.
          WWP_TRY_ASSIGN(std::string log, read_log(ns, name));
          auto from_log = parse_run_output(log);
          node =
              from_log ? std::move(*from_log) : failed_node(progress.message + with_log_tail(log));
        }
        remove(ns, name);
        return node;
      }
    }
    if (std::chrono::steady_clock::now() >= next_workflow_check) {
      next_workflow_check = std::chrono::steady_clock::now() + settings_.workflow_check_interval;
      if (auto why = workflow_gone(request)) {
        spdlog::info("step {}: workflow {}/{} {}; deleting pod {}", request.step_key, ns,
                     request.workflow.name, *why, name);
        remove(ns, name, /*even_if_kept=*/true);
        return failed_node("the workflow was " + *why + " while its step's pod " + ns + "/" + name +
                           " ran; the pod was deleted");
      }
    }
    std::this_thread::sleep_for(settings_.poll_interval);
    WWP_TRY_ASSIGN(KubeReply current, api_.call("GET", pods_path(ns) + "/" + name));
    if (current.status == 404) {
      (void)api_.call("DELETE", secrets_path(ns) + "/" + name);
      return failed_node("the step's pod " + ns + "/" + name +
                         " was deleted before it finished (workflow deleted or stopped?)");
    }
    if (current.status != 200) return refused("reading pod " + ns + "/" + name, current);
    pod = std::move(current.body);
  }
}

Result<std::string> PodRunner::read_log(const std::string& ns, const std::string& name) const {
  WWP_TRY_ASSIGN(KubeReply log,
                 api_.call("GET", pods_path(ns) + "/" + name + "/log?container=" + kContainerName));
  if (log.status != 200) return refused("reading the log of pod " + ns + "/" + name, log);
  return log.text.empty() && !log.body.is_null() ? log.body.dump() : log.text;
}

std::optional<std::string> PodRunner::workflow_gone(const model::ExecuteRequest& request) const {
  if (request.workflow.name.empty()) return std::nullopt;
  auto reply = api_.call("GET", "/apis/argoproj.io/v1alpha1/namespaces/" + request.workflow.ns +
                                    "/workflows/" + request.workflow.name);
  // Unreachable, or no right to read workflows (an older RBAC): keep following the pod.
  if (!reply || (reply->status != 200 && reply->status != 404)) return std::nullopt;
  if (reply->status == 404) return std::string("deleted");
  const model::Json& wf = reply->body;
  const std::string uid = string_at(wf, "/metadata/uid");
  if (!request.workflow.uid.empty() && !uid.empty() && uid != request.workflow.uid)
    return std::string("deleted");  // a new workflow of the same name
  const std::string shutdown = string_at(wf, "/spec/shutdown");
  if (!shutdown.empty()) return "stopped (spec.shutdown " + shutdown + ")";
  const std::string phase = string_at(wf, "/status/phase");
  if (phase == "Succeeded" || phase == "Failed" || phase == "Error")
    return "finished (" + phase + ")";
  return std::nullopt;
}

void PodRunner::remove(const std::string& ns, const std::string& name, bool even_if_kept) const {
  if (settings_.keep_pods && !even_if_kept) return;
  // Best effort: the Workflow owns both, so whatever stays goes with it.
  for (const auto& path : {pods_path(ns) + "/" + name, secrets_path(ns) + "/" + name}) {
    auto gone = api_.call("DELETE", path);
    if (!gone) spdlog::warn("deleting {}: {}", path, gone.error().message);
  }
}

}  // namespace wwp::distributed
