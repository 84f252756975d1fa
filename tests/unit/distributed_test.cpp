// Distributed mode's pure parts: the pod it asks for and how it reads a pod's status. The real
// cluster behaviour is tested in tests/k8s.
#include <gtest/gtest.h>

#include <map>

#include "common/base64.hpp"
#include "distributed/pod_spec.hpp"
#include "distributed/pod_status.hpp"

namespace wwp::distributed {
namespace {

using model::Json;
using std::chrono::milliseconds;

model::ExecuteRequest request_with_limits() {
  Json body = {
      {"workflow", {{"metadata", {{"name", "wf"}, {"namespace", "team"}, {"uid", "u-1"}}}}},
      {"template",
       {{"name", "t"},
        {"plugin",
         {{"wasm",
           {{"module", {{"path", "hello.wasm"}}},
            {"limits", {{"timeout", "90s"}, {"memory", "64Mi"}}}}}}}}}};
  auto request = model::parse_execute_request(body);
  EXPECT_TRUE(request) << request.error().message;
  return *request;
}

TEST(DistributedPodSpec, NameIsDeterministicAndValid) {
  auto a = request_with_limits();
  auto b = request_with_limits();
  EXPECT_EQ(pod_name(a.step_key), pod_name(b.step_key));
  EXPECT_EQ(pod_name(a.step_key).size(), 44u);
  b.workflow.uid = "u-2";
  b.step_key = "u-2/x";
  EXPECT_NE(pod_name(a.step_key), pod_name(b.step_key));
}

TEST(DistributedPodSpec, PodCarriesLimitsOwnerAndSecurity) {
  PodSettings settings;
  settings.image = "example/wwp:1";
  settings.memory_overhead_bytes = 128ull << 20;
  settings.tolerations = Json::array({{{"operator", "Exists"}}});
  settings.node_selector = {{"pool", "wasm"}};
  auto request = request_with_limits();
  Json pod = build_pod(request, settings, std::nullopt);
  EXPECT_EQ(pod["metadata"]["namespace"], "team");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["uid"], "u-1");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["kind"], "Workflow");
  EXPECT_EQ(pod["metadata"]["labels"]["workflows.argoproj.io/workflow"], "wf");
  EXPECT_EQ(pod["spec"]["activeDeadlineSeconds"], 90 + 60);
  const Json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(c["resources"]["limits"]["memory"], std::to_string((64ull + 128) << 20));
  EXPECT_EQ(c["securityContext"]["readOnlyRootFilesystem"], true);
  EXPECT_EQ(c["securityContext"]["runAsNonRoot"], true);
  EXPECT_EQ(c["args"][0], "run");
  EXPECT_EQ(pod["spec"]["nodeSelector"]["pool"], "wasm");
  EXPECT_EQ(pod["spec"]["volumes"][0]["secret"]["secretName"], pod["metadata"]["name"]);
  Json secret =
      build_request_secret(request, request_body(request, request.template_json), std::nullopt);
  EXPECT_EQ(secret["metadata"]["name"], pod["metadata"]["name"]);
  EXPECT_EQ(secret["data"].size(), 1u);
  for (const Json& arg : c["args"]) EXPECT_NE(arg, "--artifact-repository");
}

TEST(DistributedPodSpec, ArtifactRepositoryTravelsInTheRequestSecret) {
  PodSettings settings;
  settings.image = "example/wwp:1";
  auto request = request_with_limits();
  PodArtifactRepository repository{R"({"s3":{"endpoint":"s3.local:9000","bucket":"b"}})", "AKID",
                                   "shh", ""};
  Json secret =
      build_request_secret(request, request_body(request, request.template_json), repository);
  EXPECT_EQ(base64_decode(secret["data"]["artifact-repository.json"].get<std::string>()).value(),
            repository.config);
  EXPECT_EQ(base64_decode(secret["data"]["aws-access-key-id"].get<std::string>()).value(), "AKID");
  EXPECT_FALSE(secret["data"].contains("aws-session-token"));  // none: no key, no variable

  Json pod = build_pod(request, settings, repository);
  const Json& c = pod["spec"]["containers"][0];
  const std::string name = pod["metadata"]["name"];
  bool repository_arg = false;
  for (std::size_t i = 0; i + 1 < c["args"].size(); ++i)
    if (c["args"][i] == "--artifact-repository")
      repository_arg =
          c["args"][i + 1] == "/var/run/wasm-workflows-plugin/request/artifact-repository.json";
  EXPECT_TRUE(repository_arg) << c["args"].dump();
  std::map<std::string, Json> env;
  for (const Json& e : c["env"]) env[e["name"]] = e;
  ASSERT_TRUE(env.count("AWS_ACCESS_KEY_ID"));
  EXPECT_EQ(env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["name"], name);
  EXPECT_EQ(env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["key"],
            "aws-secret-access-key");
  EXPECT_FALSE(env.count("AWS_SESSION_TOKEN"));
}

TEST(DistributedPodStatus, ReadsTheTerminationMessage) {
  Json pod = {
      {"status",
       {{"phase", "Succeeded"},
        {"containerStatuses",
         {{{"name", "step"},
           {"state",
            {{"terminated",
              {{"exitCode", 0},
               {"message",
                R"({"node":{"phase":"Succeeded","outputs":{"result":"hi","exitCode":"0"}}})"}}}}}}}}}}};
  auto progress = classify_pod(pod, milliseconds(0), milliseconds(1000));
  ASSERT_EQ(progress.state, PodProgress::State::Finished);
  ASSERT_TRUE(progress.result);
  EXPECT_EQ(progress.result->outputs.result, "hi");
  EXPECT_EQ(progress.result->outputs.exit_code, 0);
}

TEST(DistributedPodStatus, MissingImageFailsAtOnceAndBackOffAfterTheBound) {
  auto waiting = [](const char* reason) {
    return Json{{"status",
                 {{"phase", "Pending"},
                  {"containerStatuses",
                   {{{"name", "step"}, {"state", {{"waiting", {{"reason", reason}}}}}}}}}}};
  };
  auto never = classify_pod(waiting("ErrImageNeverPull"), milliseconds(0), milliseconds(60000));
  EXPECT_EQ(never.state, PodProgress::State::Failed);
  EXPECT_NE(never.message.find("ErrImageNeverPull"), std::string::npos);
  auto backoff = classify_pod(waiting("ImagePullBackOff"), milliseconds(1000), milliseconds(60000));
  EXPECT_EQ(backoff.state, PodProgress::State::Starting);
  backoff = classify_pod(waiting("ImagePullBackOff"), milliseconds(61000), milliseconds(60000));
  EXPECT_EQ(backoff.state, PodProgress::State::Failed);
}

TEST(DistributedPodStatus, DeadlineAndOutOfMemoryAreNamed) {
  Json deadline = {{"status", {{"phase", "Failed"}, {"reason", "DeadlineExceeded"}}}};
  auto p = classify_pod(deadline, milliseconds(0), milliseconds(1000));
  EXPECT_EQ(p.state, PodProgress::State::Failed);
  EXPECT_NE(p.message.find("activeDeadlineSeconds"), std::string::npos);
  Json oom = {{"status",
               {{"phase", "Failed"},
                {"containerStatuses",
                 {{{"name", "step"},
                   {"state", {{"terminated", {{"exitCode", 137}, {"reason", "OOMKilled"}}}}}}}}}}};
  p = classify_pod(oom, milliseconds(0), milliseconds(1000));
  ASSERT_TRUE(p.result);
  EXPECT_EQ(p.result->phase, model::Phase::Failed);
  EXPECT_NE(p.result->message.find("OOMKilled"), std::string::npos);
}

TEST(DistributedPodStatus, ResultFromTheLogIsTheLastReplyLine) {
  auto node = parse_run_output(
      "[info] something\n{\"not\":\"a "
      "reply\"}\n{\"node\":{\"phase\":\"Failed\",\"message\":\"m\"}}\n");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->phase, model::Phase::Failed);
  EXPECT_EQ(node->message, "m");
}

}  // namespace
}  // namespace wwp::distributed
