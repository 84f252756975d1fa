#include "distributed/pod_spec.hpp"

#include <cctype>

#include "common/base64.hpp"
#include "common/digest.hpp"

namespace wwp::distributed {

namespace {

constexpr const char* kRequestDir = "/var/run/wasm-workflows-plugin/request";
constexpr const char* kSecretsDir = "/var/run/wasm-workflows-plugin/secrets";
// Keys of the request Secret besides request.json.
constexpr const char* kRepositoryKey = "artifact-repository.json";
constexpr const char* kAccessKeyKey = "aws-access-key-id";
constexpr const char* kSecretKeyKey = "aws-secret-access-key";
constexpr const char* kSessionTokenKey = "aws-session-token";

// An environment variable of the step container read from the step's own request Secret.
model::Json env_from_request(const std::string& variable, const std::string& secret,
                             const std::string& key) {
  return {{"name", variable}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

model::Json owner_references(const model::WorkflowMeta& workflow) {
  if (workflow.uid.empty() || workflow.name.empty()) return model::Json::array();
  return model::Json::array({{{"apiVersion", "argoproj.io/v1alpha1"},
                              {"kind", "Workflow"},
                              {"name", workflow.name},
                              {"uid", workflow.uid},
                              {"blockOwnerDeletion", false}}});
}

// A label value: 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric.
std::string label_value(const std::string& text) {
  std::string value;
  for (char c : text) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    value.push_back(ok ? c : '-');
    if (value.size() == 63) break;
  }
  while (!value.empty() && !std::isalnum(static_cast<unsigned char>(value.back())))
    value.pop_back();
  while (!value.empty() && !std::isalnum(static_cast<unsigned char>(value.front())))
    value.erase(value.begin());
  return value;
}

model::Json metadata(const model::ExecuteRequest& request, const std::string& name) {
  model::Json labels = {{kManagedByLabel, kManagedBy}, {kStepLabel, step_label(request.step_key)}};
  if (auto wf = label_value(request.workflow.name); !wf.empty()) labels[kWorkflowLabel] = wf;
  model::Json annotations = model::Json::object();
  if (request.tmpl) annotations["wasm-workflows-plugin/template"] = request.tmpl->name;
  annotations["wasm-workflows-plugin/step-key"] = request.step_key;
  return {{"name", name},
          {"namespace", request.workflow.ns},
          {"labels", labels},
          {"annotations", annotations},
          {"ownerReferences", owner_references(request.workflow)}};
}

}  // namespace

std::string step_label(const std::string& step_key) {
  return sha256_of(step_key).hex.substr(0, 40);
}

std::string pod_name(const std::string& step_key) { return "wwp-" + step_label(step_key); }

model::Json request_body(const model::ExecuteRequest& request, const model::Json& template_json) {
  return {{"workflow",
           {{"metadata",
             {{"name", request.workflow.name},
              {"namespace", request.workflow.ns},
              {"uid", request.workflow.uid}}}}},
          {"template", template_json}};
}

model::Json build_request_secret(const model::ExecuteRequest& request, const model::Json& body,
                                 const std::optional<PodArtifactRepository>& repository) {
  model::Json data = {{"request.json", base64_encode(body.dump())}};
  if (repository) {
    data[kRepositoryKey] = base64_encode(repository->config);
    if (!repository->access_key.empty())
      data[kAccessKeyKey] = base64_encode(repository->access_key);
    if (!repository->secret_key.empty())
      data[kSecretKeyKey] = base64_encode(repository->secret_key);
    if (!repository->session_token.empty())
      data[kSessionTokenKey] = base64_encode(repository->session_token);
  }
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", metadata(request, pod_name(request.step_key))},
          {"type", "Opaque"},
          {"data", data}};
}

model::Json build_pod(const model::ExecuteRequest& request, const PodSettings& settings,
                      const std::optional<PodArtifactRepository>& repository) {
  const std::string name = pod_name(request.step_key);
  const model::ExecutionLimits limits =
      request.tmpl ? request.tmpl->wasm.limits : model::ExecutionLimits{};
  const auto timeout = limits.timeout.value_or(settings.default_timeout);
  const std::uint64_t memory =
      limits.memory_bytes.value_or(settings.default_memory_bytes) + settings.memory_overhead_bytes;
  const auto deadline = std::chrono::ceil<std::chrono::seconds>(timeout) + settings.deadline_slack;

  model::Json args = {"run",
                      std::string(kRequestDir) + "/request.json",
                      "--result-file",
                      "/dev/termination-log",
                      "--fs-cache-dir",
                      "/tmp/wasm-workflows-plugin"};
  if (!settings.artifact_secrets.empty()) {
    args.push_back("--artifact-secrets-dir");
    args.push_back(kSecretsDir);
  }
  model::Json env = model::Json::array(
      {{{"name", "HOME"}, {"value", "/tmp"}}, {{"name", "TMPDIR"}, {"value", "/tmp"}}});
  if (repository) {
    args.push_back("--artifact-repository");
    args.push_back(std::string(kRequestDir) + "/" + kRepositoryKey);
    // `run` falls back to the AWS_* variables for a repository without Secret references.
    if (!repository->access_key.empty())
      env.push_back(env_from_request("AWS_ACCESS_KEY_ID", name, kAccessKeyKey));
    if (!repository->secret_key.empty())
      env.push_back(env_from_request("AWS_SECRET_ACCESS_KEY", name, kSecretKeyKey));
    if (!repository->session_token.empty())
      env.push_back(env_from_request("AWS_SESSION_TOKEN", name, kSessionTokenKey));
  }
  for (const auto& a : settings.run_args) args.push_back(a);

  model::Json resources = {{"requests", {{"memory", std::to_string(memory)}}},
                           {"limits", {{"memory", std::to_string(memory)}}}};
  if (!settings.cpu_request.empty()) resources["requests"]["cpu"] = settings.cpu_request;
  if (!settings.cpu_limit.empty()) resources["limits"]["cpu"] = settings.cpu_limit;

  model::Json container = {{"name", kContainerName},
                           {"image", settings.image},
                           {"imagePullPolicy", settings.image_pull_policy},
                           {"args", args},
                           {"env", env},
                           {"resources", resources},
                           {"terminationMessagePath", "/dev/termination-log"},
                           {"terminationMessagePolicy", "File"},
                           {"volumeMounts",
                            {{{"name", "request"}, {"mountPath", kRequestDir}, {"readOnly", true}},
                             {{"name", "tmp"}, {"mountPath", "/tmp"}}}},
                           {"securityContext",
                            {{"runAsNonRoot", true},
                             {"runAsUser", settings.run_as_user},
                             {"runAsGroup", settings.run_as_user},
                             {"readOnlyRootFilesystem", true},
                             {"allowPrivilegeEscalation", false},
                             {"capabilities", {{"drop", {"ALL"}}}}}}};

  model::Json spec = {
      {"restartPolicy", "Never"},
      {"activeDeadlineSeconds", deadline.count()},
      {"containers", {container}},
      {"automountServiceAccountToken", false},
      {"enableServiceLinks", false},
      {"securityContext", {{"runAsNonRoot", true}, {"fsGroup", settings.run_as_user}}},
      {"volumes",
       {{{"name", "request"}, {"secret", {{"secretName", name}, {"defaultMode", 0444}}}},
        {{"name", "tmp"}, {"emptyDir", model::Json::object()}}}}};
  for (std::size_t i = 0; i < settings.artifact_secrets.size(); ++i) {
    const std::string volume = "artifact-secret-" + std::to_string(i);
    const std::string& secret = settings.artifact_secrets[i];
    spec["volumes"].push_back({{"name", volume}, {"secret", {{"secretName", secret}}}});
    spec["containers"][0]["volumeMounts"].push_back(
        {{"name", volume},
         {"mountPath", std::string(kSecretsDir) + "/" + secret},
         {"readOnly", true}});
  }
  if (!settings.service_account.empty()) spec["serviceAccountName"] = settings.service_account;
  if (!settings.runtime_class.empty()) spec["runtimeClassName"] = settings.runtime_class;
  if (!settings.node_selector.empty()) spec["nodeSelector"] = settings.node_selector;
  if (!settings.tolerations.empty()) spec["tolerations"] = settings.tolerations;
  if (settings.host_network) spec["hostNetwork"] = true;
  if (!settings.pull_secrets.empty()) {
    spec["imagePullSecrets"] = model::Json::array();
    for (const auto& s : settings.pull_secrets) spec["imagePullSecrets"].push_back({{"name", s}});
  }
  return {
      {"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", metadata(request, name)}, {"spec", spec}};
}

}  // namespace wwp::distributed
