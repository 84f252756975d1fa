// Spans, the OTEL_* configuration, the OTLP/JSON encoding, and the exporter against an
// in-process collector on loopback (cpp-httplib) and against a port where nothing listens.
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "telemetry/otlp_exporter.hpp"
#include "telemetry/otlp_json.hpp"
#include "telemetry/plugin_metrics.hpp"
#include "telemetry/tracer.hpp"
#include "telemetry/tracing_config.hpp"

using namespace wwp::telemetry;
using namespace std::chrono_literals;
using Json = nlohmann::json;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class Collected : public SpanSink {
 public:
  void consume(SpanData&& span) override {
    std::lock_guard lock(mutex);
    spans.push_back(std::move(span));
  }
  std::mutex mutex;
  std::vector<SpanData> spans;
};

// A port nothing listens on: bound, then closed.
int closed_port() {
  httplib::Server server;
  const int port = server.bind_to_any_port("127.0.0.1");
  return port;
}

}  // namespace

TEST(TracingConfig, OffUnlessAnEndpointOrOtlpExporterIsAsked) {
  auto none = tracing_config_from_env(env_of({}), "svc");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto disabled = tracing_config_from_env(
      env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}, {"OTEL_SDK_DISABLED", "true"}}),
      "svc");
  ASSERT_TRUE(disabled);
  EXPECT_FALSE(*disabled);
  auto exporter_none = tracing_config_from_env(
      env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}, {"OTEL_TRACES_EXPORTER", "none"}}),
      "svc");
  ASSERT_TRUE(exporter_none);
  EXPECT_FALSE(*exporter_none);
  auto default_endpoint = tracing_config_from_env(env_of({{"OTEL_TRACES_EXPORTER", "otlp"}}), "s");
  ASSERT_TRUE(default_endpoint && *default_endpoint);
  EXPECT_EQ((*default_endpoint)->endpoint, "http://localhost:4318/v1/traces");
}

TEST(TracingConfig, EndpointsHeadersResourceAndSampler) {
  auto config = tracing_config_from_env(
      env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"},
              {"OTEL_EXPORTER_OTLP_HEADERS", "api-key=se%20cret, x-tenant = a"},
              {"OTEL_SERVICE_NAME", "wwp-test"},
              {"OTEL_RESOURCE_ATTRIBUTES", "service.name=ignored,deployment.environment=ci"},
              {"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
              {"OTEL_TRACES_SAMPLER_ARG", "0.25"},
              {"OTEL_EXPORTER_OTLP_TIMEOUT", "500"},
              {"OTEL_BSP_SCHEDULE_DELAY", "50"},
              {"OTEL_BSP_MAX_QUEUE_SIZE", "10"}}),
      "default-svc");
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_TRUE(*config);
  const TracingConfig& c = **config;
  EXPECT_EQ(c.endpoint, "http://collector:4318/v1/traces");
  EXPECT_EQ(c.headers, (std::vector<std::string>{"api-key: se cret", "x-tenant: a"}));
  ASSERT_EQ(c.resource.size(), 2u);
  EXPECT_EQ(c.resource[0], (std::pair<std::string, std::string>{"service.name", "wwp-test"}));
  EXPECT_EQ(c.resource[1].first, "deployment.environment");
  EXPECT_EQ(c.sampler, Sampler::TraceIdRatio);
  EXPECT_DOUBLE_EQ(c.ratio, 0.25);
  EXPECT_EQ(c.timeout, 500ms);
  EXPECT_EQ(c.schedule_delay, 50ms);
  EXPECT_EQ(c.max_queue, 10u);

  auto specific = tracing_config_from_env(
      env_of({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"},
              {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:9999/custom"}}),
      "svc");
  ASSERT_TRUE(specific && *specific);
  EXPECT_EQ((*specific)->endpoint, "http://traces:9999/custom");
  EXPECT_EQ((*specific)->resource[0].second, "svc");
}

TEST(TracingConfig, MistakesNameTheVariable) {
  const std::map<std::string, std::string> base = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"}};
  auto with = [&](std::string key, std::string value) {
    auto vars = base;
    vars[key] = value;
    return tracing_config_from_env(env_of(vars), "svc");
  };
  for (auto [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"OTEL_TRACES_SAMPLER", "sometimes"},
           {"OTEL_TRACES_SAMPLER_ARG", "1.5"},
           {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
           {"OTEL_EXPORTER_OTLP_HEADERS", "novalue"},
           {"OTEL_EXPORTER_OTLP_TIMEOUT", "soon"},
           {"OTEL_TRACES_EXPORTER", "zipkin"},
           {"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://c"}}) {
    auto vars = base;
    if (key == "OTEL_TRACES_SAMPLER_ARG") vars["OTEL_TRACES_SAMPLER"] = "traceidratio";
    vars[key] = value;
    auto config = tracing_config_from_env(env_of(vars), "svc");
    ASSERT_FALSE(config) << key;
    EXPECT_NE(config.error().message.find(key.substr(0, 20)), std::string::npos)
        << config.error().message;
  }
  EXPECT_TRUE(with("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"));
}

TEST(Tracer, SpansFormATreeThroughTheActiveSpan) {
  auto sink = std::make_shared<Collected>();
  Tracer tracer(Sampler::AlwaysOn, 1.0, sink);
  {
    Span root = tracer.root("step");
    root.set("argo.workflow.name", "wf");
    root.set("n", std::int64_t{3});
    root.set("n", std::int64_t{4});  // replaces
    const ActiveSpan active(root);
    Span child = start_child("compile");
    child.set_error("broken");
  }
  EXPECT_FALSE(start_child("outside").recording());
  ASSERT_EQ(sink->spans.size(), 2u);
  const SpanData& child = sink->spans[0];
  const SpanData& root = sink->spans[1];
  EXPECT_EQ(child.trace_id, root.trace_id);
  EXPECT_EQ(child.parent_span_id, root.span_id);
  EXPECT_NE(child.span_id, root.span_id);
  EXPECT_TRUE(child.error);
  EXPECT_EQ(child.status_message, "broken");
  EXPECT_LE(root.start_unix_nanos, child.start_unix_nanos);
  EXPECT_GE(root.end_unix_nanos, child.end_unix_nanos);
  ASSERT_EQ(root.attributes.size(), 2u);
  EXPECT_EQ(std::get<std::int64_t>(root.attributes[1].second), 4);
}

TEST(Tracer, SamplersKeepTheirShare) {
  auto sink = std::make_shared<Collected>();
  EXPECT_FALSE(Tracer(Sampler::AlwaysOff, 1, sink).root("x").recording());
  Tracer quarter(Sampler::TraceIdRatio, 0.25, sink);
  int kept = 0;
  for (int i = 0; i < 4000; ++i) kept += quarter.root("x").recording() ? 1 : 0;
  EXPECT_GT(kept, 800);
  EXPECT_LT(kept, 1200);
  EXPECT_FALSE(Tracer(Sampler::TraceIdRatio, 0, sink).root("x").recording());
}

TEST(Tracer, NothingInstalledMeansNoOpSpans) {
  install_tracer(nullptr);
  Span span = start_root("step");
  EXPECT_FALSE(span.recording());
  span.set("k", "v");  // harmless
  EXPECT_FALSE(span.child("c").recording());
}

TEST(OtlpJson, EncodesTheExportRequest) {
  SpanData span;
  span.trace_id.fill(0xab);
  span.span_id.fill(0x01);
  span.parent_span_id.fill(0x02);
  span.name = "run";
  span.start_unix_nanos = 1700000000000000001ULL;
  span.end_unix_nanos = 1700000000000000002ULL;
  span.attributes = {{"s", std::string("v")}, {"i", std::int64_t{-5}}, {"d", 0.5}, {"b", true}};
  span.error = true;
  span.status_message = "exit code 1";
  SpanData root;
  root.trace_id.fill(0xab);
  root.span_id.fill(0x02);
  const Json body = Json::parse(encode_otlp_json({{"service.name", "svc"}}, {span, root}));
  const Json& rs = body["resourceSpans"][0];
  EXPECT_EQ(rs["resource"]["attributes"][0]["value"]["stringValue"], "svc");
  const Json& spans = rs["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0]["traceId"], "abababababababababababababababab");
  EXPECT_EQ(spans[0]["spanId"], "0101010101010101");
  EXPECT_EQ(spans[0]["parentSpanId"], "0202020202020202");
  EXPECT_EQ(spans[0]["startTimeUnixNano"], "1700000000000000001");
  EXPECT_EQ(spans[0]["attributes"][1]["value"]["intValue"], "-5");
  EXPECT_EQ(spans[0]["attributes"][2]["value"]["doubleValue"], 0.5);
  EXPECT_EQ(spans[0]["attributes"][3]["value"]["boolValue"], true);
  EXPECT_EQ(spans[0]["status"]["code"], 2);
  EXPECT_FALSE(spans[1].contains("parentSpanId"));
  EXPECT_FALSE(spans[1].contains("status"));
}

TEST(OtlpExporter, PostsBatchesWithHeadersToTheCollector) {
  httplib::Server collector;
  std::mutex mutex;
  std::vector<Json> bodies;
  std::vector<std::string> keys;
  collector.Post("/v1/traces", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    bodies.push_back(Json::parse(req.body));
    keys.push_back(req.get_header_value("api-key") + "|" + req.get_header_value("Content-Type"));
    res.set_content("{}", "application/json");
  });
  const int port = collector.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { collector.listen_after_bind(); });

  TracingConfig config;
  config.endpoint = "http://127.0.0.1:" + std::to_string(port) + "/v1/traces";
  config.headers = {"api-key: k1"};
  config.resource = {{"service.name", "svc"}};
  config.schedule_delay = 50ms;
  config.max_batch = 3;
  OtlpExporter::Stats stats;
  {
    auto exporter = std::make_shared<OtlpExporter>(config);
    Tracer tracer(Sampler::AlwaysOn, 1.0, exporter);
    for (int i = 0; i < 7; ++i) tracer.root("s" + std::to_string(i)).end();
    exporter->flush(5s);
    stats = exporter->stats();
  }  // the exporter's pooled connection closes: the server's stop need not wait for it
  collector.stop();
  serving.join();

  EXPECT_EQ(stats.exported, 7u);
  std::size_t spans = 0;
  for (const auto& body : bodies) {
    const auto n = body["resourceSpans"][0]["scopeSpans"][0]["spans"].size();
    EXPECT_LE(n, 3u);
    spans += n;
  }
  EXPECT_EQ(spans, 7u);
  ASSERT_FALSE(keys.empty());
  EXPECT_EQ(keys[0], "k1|application/json");
}

TEST(OtlpExporter, ADeadCollectorNeverBlocksAndDropsAreCounted) {
  TracingConfig config;
  config.endpoint = "http://127.0.0.1:" + std::to_string(closed_port()) + "/v1/traces";
  config.schedule_delay = 10ms;
  config.max_queue = 5;
  config.max_batch = 100;
  config.timeout = 200ms;
  config.shutdown_flush = 300ms;
  const double dropped_before = plugin_metrics().spans_dropped.with({"queue_full"}).value();
  auto exporter = std::make_shared<OtlpExporter>(config);
  Tracer tracer(Sampler::AlwaysOn, 1.0, exporter);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) tracer.root("s").end();
  const auto spent = std::chrono::steady_clock::now() - started;
  // 1000 spans ended while nobody listens: far below one connection attempt per span.
  EXPECT_LT(spent, 500ms);
  const auto shutdown_started = std::chrono::steady_clock::now();
  exporter->shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - shutdown_started, 2s);
  const auto stats = exporter->stats();
  EXPECT_EQ(stats.exported, 0u);
  // After a refused export the collector is left alone: not one attempt per filled batch.
  EXPECT_GE(stats.exports_failed, 1u);
  EXPECT_LE(stats.exports_failed, 3u);
  EXPECT_GT(stats.dropped_queue_full, 900u);
  EXPECT_EQ(stats.dropped_queue_full + stats.dropped_export_failed + stats.dropped_shutdown, 1000u);
  EXPECT_DOUBLE_EQ(plugin_metrics().spans_dropped.with({"queue_full"}).value() - dropped_before,
                   static_cast<double>(stats.dropped_queue_full));
}
