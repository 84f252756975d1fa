// What tracing costs a step, in process (no HTTP): the hot path of hello.wasm with tracing off
// (the floor), with every span exported to a collector whose port is closed (connection refused),
// and to a blackhole (a socket that listens but never accepts: connections hang until the export
// timeout). Steps only queue their spans; the exporter's thread pays for the dead collector.
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "cli/plugin_runtime.hpp"
#include "model/template.hpp"
#include "telemetry/otlp_exporter.hpp"
#include "telemetry/tracer.hpp"

using namespace wwp;
namespace fs = std::filesystem;

namespace {

cli::PluginRuntime& runtime() {
  static std::unique_ptr<cli::PluginRuntime> rt = [] {
    cli::PluginConfig config;
    config.module_dir = WWP_BENCH_MODULE_DIR;
    const fs::path cache =
        fs::temp_directory_path() / ("wwp-tracing-bench-" + std::to_string(::getpid()));
    fs::remove_all(cache);
    config.fs_cache_dir = cache.string();
    auto created = cli::PluginRuntime::create(config);
    if (!created) throw std::runtime_error(created.error().message);
    return std::move(*created);
  }();
  return *rt;
}

// A listening socket that never accepts; `closed` closes it again, so the port refuses.
int listening_port(bool closed) {
  static std::vector<int> kept;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(fd, 1);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (closed) {
    ::close(fd);
  } else {
    kept.push_back(fd);
  }
  return ntohs(addr.sin_port);
}

enum Mode { Off = 0, ClosedPort = 1, Blackhole = 2 };

void BM_HotStep_Tracing(benchmark::State& state) {
  const auto mode = static_cast<Mode>(state.range(0));
  std::shared_ptr<telemetry::OtlpExporter> exporter;
  if (mode != Off) {
    telemetry::TracingConfig config;  // the defaults serve uses
    config.endpoint =
        "http://127.0.0.1:" + std::to_string(listening_port(mode == ClosedPort)) + "/v1/traces";
    config.resource = {{"service.name", "bench"}};
    exporter = std::make_shared<telemetry::OtlpExporter>(config);
    telemetry::install_tracer(
        std::make_shared<telemetry::Tracer>(config.sampler, config.ratio, exporter));
  } else {
    telemetry::install_tracer(nullptr);
  }
  auto parsed = model::parse_template(
      {{"name", "bench"}, {"plugin", {{"wasm", {{"module", {{"path", "hello.wasm"}}}}}}}});
  auto& executor = runtime().executor();
  const model::WorkflowMeta wf{"bench", "default", "uid"};
  if (auto first = executor.execute(*parsed, wf, "key"); !first) {
    state.SkipWithError(first.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    auto node = executor.execute(*parsed, wf, "key");
    if (!node || node->phase != model::Phase::Succeeded) {
      state.SkipWithError("step did not succeed");
      break;
    }
  }
  telemetry::install_tracer(nullptr);
  if (exporter) {
    const auto stats = exporter->stats();
    state.counters["spans_exported"] = static_cast<double>(stats.exported);
    state.counters["spans_dropped"] = static_cast<double>(
        stats.dropped_queue_full + stats.dropped_export_failed + stats.dropped_shutdown);
    exporter->shutdown();
  }
}

}  // namespace

// Interleaved repetitions, so the three modes see the same machine load.
BENCHMARK(BM_HotStep_Tracing)
    ->ArgName("mode")
    ->Arg(Off)
    ->Arg(ClosedPort)
    ->Arg(Blackhole)
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(1.0);

int main(int argc, char** argv) {
  // One info line per step would measure the terminal, not the step.
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
