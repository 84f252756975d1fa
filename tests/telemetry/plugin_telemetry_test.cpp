// The real plugin binary, observed the way an operator observes it: GET /metrics checked by
// promtool (Debian's prometheus package) with counters that move as steps run, JSON log lines
// with the step's fields, and the span tree of a step in a real Jaeger (all on loopback).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "../artifacts/test_support.hpp"
#include "../integration/plugin_process.hpp"
#include "support/process.hpp"

using namespace wwp::testing;
using namespace std::chrono_literals;
namespace s3 = wwp::artifacts::test;

namespace {

using Series = std::map<std::string, double>;

std::string get_text(int port, const std::string& path, int* status = nullptr) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  auto res = client.Get(path);
  if (status) *status = res ? res->status : 0;
  return res ? res->body : "";
}

// "name{labels} value" lines into a map (comments skipped).
Series parse_exposition(const std::string& text) {
  Series out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

double value_of(const Series& series, const std::string& key) {
  auto it = series.find(key);
  return it == series.end() ? 0.0 : it->second;
}

// The agent's loop: calls again while the plugin answers Running.
PluginProcess::Reply execute_until_done(const PluginProcess& plugin, const Json& tmpl,
                                        const std::string& uid) {
  for (int i = 0; i < 300; ++i) {
    auto reply = plugin.execute(tmpl, uid);
    if (reply.status != 200 || reply.body["node"].value("phase", "") != "Running") return reply;
    std::this_thread::sleep_for(100ms);
  }
  return {};
}

// upper.wasm between container steps: an input artifact from S3, an output artifact to S3.
Json artifact_step(s3::S3Server& server, const s3::ScratchDir& dir) {
  s3::write_file(dir.path() / "in" / "message.txt", "hello from a container\n");
  EXPECT_EQ(s3::run("tar -czf " + s3::quote((dir.path() / "in.tgz").string()) + " -C " +
                    s3::quote((dir.path() / "in").string()) + " message.txt")
                .exit_code,
            0);
  server.put(dir.path() / "in.tgz", "argo", "earlier-step/message.tgz");
  Json tmpl = wasm_template("upper.wasm", {{"args", {"/tmp/in.txt", "/tmp/out.txt"}}});
  tmpl["name"] = "shout";
  tmpl["inputs"] = {{"artifacts",
                     {{{"name", "message"},
                       {"path", "/tmp/in.txt"},
                       {"s3", {{"key", "earlier-step/message.tgz"}}}}}}};
  tmpl["outputs"] = {{"artifacts", {{{"name", "shouted"}, {"path", "/tmp/out.txt"}}}}};
  return tmpl;
}

}  // namespace

TEST(PluginTelemetry, MetricsMoveWithStepsAndPromtoolAcceptsThem) {
  s3::S3Server server;
  s3::ScratchDir dir("wwp-telemetry-metrics-");
  server.make_bucket("argo");
  auto settings = s3::settings_for(server, dir, "argo");
  const int health_port = free_port();
  // A short requeue wait: the timed-out step answers Running first (a requeue).
  PluginProcess plugin({"--artifact-repository", settings.repository_config->string(),
                        "--artifact-secrets-dir", settings.secrets_dir->string(), "--health-port",
                        std::to_string(health_port), "--requeue-wait", "300ms", "--log-format",
                        "json"});
  const Series before = parse_exposition(get_text(plugin.port(), "/metrics"));

  const Json shout = artifact_step(server, dir);
  auto ok = execute_until_done(plugin, shout, "uid-ok");
  ASSERT_EQ(ok.body["node"]["phase"], "Succeeded") << ok.raw;
  auto failed = execute_until_done(plugin, wasm_template("exit3.wasm"), "uid-exit3");
  ASSERT_EQ(failed.body["node"]["phase"], "Failed") << failed.raw;
  auto timed_out = execute_until_done(
      plugin, wasm_template("loop.wasm", {{"limits", {{"timeout", "1s"}}}}), "uid-loop");
  ASSERT_EQ(timed_out.body["node"]["phase"], "Failed") << timed_out.raw;
  server.stop();
  auto unavailable = execute_until_done(plugin, shout, "uid-s3-down");
  ASSERT_EQ(unavailable.status, 503) << unavailable.raw;

  int status = 0;
  const std::string text = get_text(plugin.port(), "/metrics", &status);
  ASSERT_EQ(status, 200);
  const Series after = parse_exposition(text);
  auto moved = [&](const std::string& key) { return value_of(after, key) - value_of(before, key); };
  EXPECT_EQ(moved(R"(wwp_steps_total{phase="Succeeded",module="upper.wasm"})"), 1);
  EXPECT_EQ(moved(R"(wwp_steps_total{phase="Failed",module="exit3.wasm"})"), 1);
  EXPECT_EQ(moved(R"(wwp_steps_total{phase="Failed",module="loop.wasm"})"), 1);
  EXPECT_EQ(moved(R"(wwp_steps_total{phase="Transient",module="upper.wasm"})"), 1);
  EXPECT_EQ(moved(R"(wwp_unavailable_responses_total{reason="transient"})"), 1);
  EXPECT_EQ(moved(R"(wwp_limit_hits_total{kind="timeout"})"), 1);
  EXPECT_GE(moved("wwp_requeues_total"), 1);
  EXPECT_EQ(moved(R"(wwp_step_duration_seconds_count{phase="Failed"})"), 2);
  EXPECT_EQ(moved(R"(wwp_step_duration_seconds_bucket{phase="Failed",le="+Inf"})"), 2);
  EXPECT_GE(moved(R"(wwp_step_duration_seconds_sum{phase="Failed"})"), 1.0);  // the 1 s timeout
  EXPECT_EQ(moved("wwp_step_queue_wait_seconds_count"), 4);
  EXPECT_GT(moved(R"(wwp_step_cpu_seconds_total{module="loop.wasm"})"), 0.05);
  EXPECT_EQ(moved("wwp_step_memory_peak_bytes_count"), 3);
  EXPECT_GE(moved(R"(wwp_module_cache_lookups_total{cache="memory",result="miss"})"), 3);
  EXPECT_GE(moved(R"(wwp_module_cache_lookups_total{cache="memory",result="hit"})"), 1);
  EXPECT_GE(moved(R"(wwp_module_compile_duration_seconds_count{tier="baseline"})") +
                moved(R"(wwp_module_compile_duration_seconds_count{tier="optimized"})"),
            3);
  EXPECT_GT(moved(R"(wwp_artifact_bytes_total{direction="in"})"), 0);
  EXPECT_GT(moved(R"(wwp_artifact_bytes_total{direction="out"})"), 0);
  EXPECT_GE(moved(R"(wwp_artifact_transfer_duration_seconds_count{direction="out"})"), 1);
  EXPECT_GT(value_of(after, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GT(value_of(after, "process_open_fds"), 2);
  EXPECT_EQ(value_of(after, "wwp_steps_running"), 0);

  // The health port answers /metrics too (scrapes cannot be crowded out by steps).
  EXPECT_NE(get_text(health_port, "/metrics").find("# TYPE wwp_steps_total counter"),
            std::string::npos);

  // promtool reads the exposition and applies its lint (names, units, _total, HELP).
  s3::write_file(dir.path() / "metrics.txt", text);
  auto checked =
      s3::run("promtool check metrics < " + s3::quote((dir.path() / "metrics.txt").string()));
  EXPECT_EQ(checked.exit_code, 0) << checked.output << "\n" << text;
  EXPECT_EQ(checked.output, "") << checked.output;

  // JSON log lines: the failed step's line names workflow, namespace, node, template and module,
  // and carries its resource use and stderr.
  bool found = false;
  std::istringstream log(plugin.log());
  std::string line;
  while (std::getline(log, line)) {
    if (line.empty() || line[0] != '{') continue;
    Json parsed = Json::parse(line);
    if (parsed.value("module", "") != "exit3.wasm" || parsed.value("phase", "") != "Failed")
      continue;
    found = true;
    EXPECT_EQ(parsed["workflow"], "wf-test");
    EXPECT_EQ(parsed["namespace"], "argo");
    EXPECT_EQ(parsed["template"], "step");
    EXPECT_TRUE(parsed.contains("node"));
    EXPECT_TRUE(parsed.contains("cpu_ms"));
    EXPECT_TRUE(parsed.contains("memory_peak_bytes"));
    EXPECT_TRUE(parsed.value("module_digest", "").starts_with("sha256:"));
    EXPECT_EQ(parsed["level"], "info");
  }
  EXPECT_TRUE(found) << plugin.log();
}

namespace {

// Jaeger all-in-one (v2, OTel-collector based) with in-memory storage, every listener on a free
// loopback port: OTLP/HTTP in, the query API out; nothing else.
class Jaeger {
 public:
  Jaeger() {
    auto built = s3::run(std::string(WWP_JAEGER_BUILD_SCRIPT) + " 2>&1");
    if (built.exit_code != 0) throw std::runtime_error("cannot build jaeger: " + built.output);
    std::string binary = built.output;
    binary = binary.substr(0, binary.find_last_not_of("\n") + 1);
    binary = binary.substr(binary.rfind('\n') == std::string::npos ? 0 : binary.rfind('\n') + 1);
    otlp_port_ = free_port();
    query_port_ = free_port();
    const int grpc_port = free_port();
    const std::string config = R"(service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:)" + std::to_string(query_port_) +
                               R"(
    grpc:
      endpoint: 127.0.0.1:)" + std::to_string(grpc_port) +
                               R"(
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:)" +
                               std::to_string(otlp_port_) + R"(
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
)";
    s3::write_file(dir_.path() / "config.yaml", config);
    const std::string log_path = (dir_.path() / "jaeger.log").string();
    process_ = wwp::test::ChildProcess(
        {binary, "--config=" + (dir_.path() / "config.yaml").string()}, log_path);
    for (int i = 0; i < 600; ++i) {
      int status = 0;
      if (get_text(query_port_, "/api/services", &status), status == 200) return;
      if (process_.exited()) throw std::runtime_error("jaeger exited: " + s3::read_file(log_path));
      std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("jaeger did not start: " + s3::read_file(log_path));
  }
  std::string otlp_url() const { return "http://127.0.0.1:" + std::to_string(otlp_port_); }
  int query_port() const { return query_port_; }

 private:
  s3::ScratchDir dir_{"wwp-jaeger-"};
  int otlp_port_ = 0;
  int query_port_ = 0;
  wwp::test::ChildProcess process_;  // stopped when the test ends
};

std::string tag(const Json& span, const std::string& key) {
  for (const auto& t : span["tags"]) {
    if (t["key"] == key)
      return t["value"].is_string() ? t["value"].get<std::string>() : t["value"].dump();
  }
  return "";
}

}  // namespace

TEST(PluginTelemetry, JaegerReceivesTheSpanTreeOfAStep) {
  Jaeger jaeger;
  s3::S3Server server;
  s3::ScratchDir dir("wwp-telemetry-traces-");
  server.make_bucket("argo");
  auto settings = s3::settings_for(server, dir, "argo");
  const std::string service = "wwp-it-" + std::to_string(::getpid());
  // The plugin inherits the environment: the standard variables are all it is given.
  ::setenv("OTEL_EXPORTER_OTLP_ENDPOINT", jaeger.otlp_url().c_str(), 1);
  ::setenv("OTEL_SERVICE_NAME", service.c_str(), 1);
  ::setenv("OTEL_BSP_SCHEDULE_DELAY", "100", 1);
  PluginProcess plugin({"--artifact-repository", settings.repository_config->string(),
                        "--artifact-secrets-dir", settings.secrets_dir->string()});
  ::unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
  ::unsetenv("OTEL_SERVICE_NAME");
  ::unsetenv("OTEL_BSP_SCHEDULE_DELAY");

  auto ok = execute_until_done(plugin, artifact_step(server, dir), "uid-traced");
  ASSERT_EQ(ok.body["node"]["phase"], "Succeeded") << ok.raw;
  auto failed = execute_until_done(plugin, wasm_template("exit3.wasm"), "uid-traced-failure");
  ASSERT_EQ(failed.body["node"]["phase"], "Failed") << failed.raw;

  Json traces;
  for (int i = 0; i < 200; ++i) {
    int status = 0;
    const std::string body =
        get_text(jaeger.query_port(), "/api/traces?service=" + service + "&limit=20", &status);
    if (status == 200) {
      traces = Json::parse(body)["data"];
      std::size_t spans = 0;
      for (const auto& t : traces) spans += t["spans"].size();
      if (traces.size() == 2 && spans >= 8) break;
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(traces.size(), 2u) << traces.dump(1) << "\n" << plugin.log();

  const Json* step_trace = nullptr;
  const Json* failed_trace = nullptr;
  for (const auto& t : traces) {
    for (const auto& span : t["spans"]) {
      if (span["operationName"] == "step shout") step_trace = &t;
      if (span["operationName"] == "step step") failed_trace = &t;
    }
  }
  ASSERT_NE(step_trace, nullptr) << traces.dump(1);
  ASSERT_NE(failed_trace, nullptr) << traces.dump(1);

  const Json* root = nullptr;
  for (const auto& span : (*step_trace)["spans"]) {
    if (span["references"].empty()) root = &span;
  }
  ASSERT_NE(root, nullptr);
  EXPECT_EQ((*root)["operationName"], "step shout");
  EXPECT_EQ(tag(*root, "argo.workflow.name"), "wf-test");
  EXPECT_EQ(tag(*root, "k8s.namespace.name"), "argo");
  EXPECT_EQ(tag(*root, "argo.workflow.uid"), "uid-traced");
  EXPECT_EQ(tag(*root, "argo.template.name"), "shout");
  EXPECT_EQ(tag(*root, "wasm.module.ref"), "upper.wasm");
  EXPECT_TRUE(tag(*root, "wasm.module.digest").starts_with("sha256:")) << root->dump();
  EXPECT_EQ(tag(*root, "wwp.step.phase"), "Succeeded");
  EXPECT_NE(tag(*root, "wwp.step.cpu_seconds"), "");
  EXPECT_NE(tag(*root, "wwp.step.memory_peak_bytes"), "");
  const std::string process = (*root)["processID"];
  EXPECT_EQ((*step_trace)["processes"][process]["serviceName"], service);

  std::set<std::string> children;
  for (const auto& span : (*step_trace)["spans"]) {
    if (&span == root) continue;
    ASSERT_EQ(span["references"].size(), 1u);
    EXPECT_EQ(span["references"][0]["refType"], "CHILD_OF");
    EXPECT_EQ(span["references"][0]["spanID"], (*root)["spanID"]) << span.dump();
    // Children lie within the step.
    EXPECT_GE(span["startTime"].get<std::int64_t>(), (*root)["startTime"].get<std::int64_t>());
    children.insert(span["operationName"]);
    if (span["operationName"] == "run") {
      EXPECT_EQ(tag(span, "process.exit.code"), "0");
    }
    if (span["operationName"] == "compile module") {
      EXPECT_NE(tag(span, "wwp.compile.cache"), "") << span.dump();
    }
  }
  EXPECT_EQ(children, (std::set<std::string>{"resolve module", "compile module", "artifacts in",
                                             "run", "artifacts out"}));

  for (const auto& span : (*failed_trace)["spans"]) {
    if (span["operationName"] != "step step") continue;
    EXPECT_EQ(tag(span, "wwp.step.phase"), "Failed");
    EXPECT_EQ(tag(span, "otel.status_code"), "ERROR") << span.dump();
    EXPECT_NE(tag(span, "otel.status_description").find("exit code 3"), std::string::npos);
  }
}
