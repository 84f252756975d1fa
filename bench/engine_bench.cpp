// In-process costs of a step, without HTTP: the hot path (module compiled and cached), a module
// that uses the earlier file ABI (sandbox directory + input.json + result.json), compiling a new
// module, and loading a precompiled 2 MB Go module from the disk cache.
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "cli/plugin_runtime.hpp"
#include "common/file_bytes.hpp"
#include "model/template.hpp"
#include "modules/compiled_cache.hpp"
#include "sandbox/run.hpp"

using namespace wwp;
namespace fs = std::filesystem;

namespace {

fs::path bench_cache() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("wwp-bench-" + std::to_string(::getpid()));
    fs::remove_all(d);
    return d;
  }();
  return dir;
}

cli::PluginRuntime& runtime() {
  static std::unique_ptr<cli::PluginRuntime> rt = [] {
    cli::PluginConfig config;
    config.module_dir = WWP_BENCH_MODULE_DIR;
    config.fs_cache_dir = bench_cache().string();
    auto created = cli::PluginRuntime::create(config);
    if (!created) throw std::runtime_error(created.error().message);
    return std::move(*created);
  }();
  return *rt;
}

model::Template template_for(const std::string& module, model::Json extra = model::Json::object()) {
  model::Json wasm = {{"module", {{"path", module}}}};
  for (auto& [k, v] : extra.items()) wasm[k] = v;
  auto parsed =
      model::parse_template({{"name", "bench"},
                             {"plugin", {{"wasm", wasm}}},
                             {"inputs", {{"parameters", {{{"name", "text"}, {"value", "hi"}}}}}}});
  if (!parsed) throw std::runtime_error(parsed.error().message);
  return *parsed;
}

void execute_loop(benchmark::State& state, const model::Template& tmpl) {
  auto& executor = runtime().executor();
  const model::WorkflowMeta wf{"bench", "default", "uid"};
  // Hot means compiled and cached: the first step (which compiles) is not measured.
  if (auto first = executor.execute(tmpl, wf, "key"); !first) {
    state.SkipWithError(first.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    auto node = executor.execute(tmpl, wf, "key");
    if (!node || node->phase != model::Phase::Succeeded) {
      state.SkipWithError("step did not succeed");
      break;
    }
  }
}

void BM_HotStep_CHello(benchmark::State& state) { execute_loop(state, template_for("hello.wasm")); }
void BM_HotStep_GoHello(benchmark::State& state) {
  execute_loop(state, template_for("hello_go.wasm"));
}
void BM_HotStep_EarlierAbiGoEcho(benchmark::State& state) {
  execute_loop(state, template_for("legacy_echo.wasm"));
}

// Compiling a module seen for the first time (what the first step of a new module pays).
void BM_Compile(benchmark::State& state, const char* module) {
  auto bytes = read_file(fs::path(WWP_BENCH_MODULE_DIR) / module);
  auto engine = sandbox::Engine::create({});
  for (auto _ : state) {
    auto compiled = (*engine)->compile(
        std::span(reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()));
    benchmark::DoNotOptimize(compiled);
  }
  state.counters["wasm_bytes"] = static_cast<double>(bytes->size());
}

// Compiling with Winch, the baseline tier: what the first step of a new module pays with tiering.
void BM_CompileBaseline(benchmark::State& state, const char* module) {
  auto bytes = read_file(fs::path(WWP_BENCH_MODULE_DIR) / module);
  auto engine = sandbox::Engine::create({});
  for (auto _ : state) {
    auto compiled = (*engine)->compile_baseline(
        std::span(reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()));
    benchmark::DoNotOptimize(compiled);
  }
  state.counters["wasm_bytes"] = static_cast<double>(bytes->size());
}

// Loading the precompiled module from disk: what the first step after a restart pays.
void BM_LoadFromDiskCache(benchmark::State& state, const char* module) {
  auto engine = sandbox::Engine::create({});
  const fs::path wasm = fs::path(WWP_BENCH_MODULE_DIR) / module;
  const auto digest = sha256_of(*read_file(wasm));
  const fs::path dir = bench_cache() / "disk-bench";
  {
    modules::CompiledCache warm(**engine, dir, 1);
    (void)warm.get(digest, wasm);
    warm.wait_for_optimizations();  // tiering writes Cranelift's code to disk in the background
  }
  for (auto _ : state) {
    modules::CompiledCache cold(**engine, dir, 1ULL << 30);  // a new process: empty memory cache
    auto module = cold.get(digest, wasm);
    if (!module || cold.stats().disk_hits != 1) state.SkipWithError("not loaded from disk");
  }
}

}  // namespace

BENCHMARK(BM_HotStep_CHello)->UseRealTime();
BENCHMARK(BM_HotStep_GoHello)->UseRealTime();
BENCHMARK(BM_HotStep_EarlierAbiGoEcho)->UseRealTime();
BENCHMARK_CAPTURE(BM_Compile, c_hello, "hello.wasm")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Compile, go_hello_2MB, "hello_go.wasm")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_CompileBaseline, go_hello_2MB, "hello_go.wasm")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(BM_LoadFromDiskCache, go_hello_2MB, "hello_go.wasm")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

int main(int argc, char** argv) {
  // Each step logs one info line; measure the step, not the terminal.
  spdlog::set_level(spdlog::level::warn);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  fs::remove_all(bench_cache());
  return 0;
}
