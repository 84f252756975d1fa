#include "sandbox/engine.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "sandbox/engine_impl.hpp"
#include "sandbox/http_host_module.hpp"
#include "sandbox/output_capture.hpp"
#include "sandbox/wasi_overrides.hpp"

// wasmtime-shim (src/lib.rs): PoolingAllocationConfig::pagemap_scan, which the 48.x C API lacks.
extern "C" void wwp_pooling_allocation_config_pagemap_scan_auto(
    wasmtime_pooling_allocation_config_t* config);

#ifndef WWP_WASMTIME_VERSION
#define WWP_WASMTIME_VERSION "unknown"
#endif

namespace wwp::sandbox {

namespace {

constexpr std::size_t kKeepResidentBytes = 1 << 20;

wasmtime::Config make_config(const EngineSettings& settings) {
  wasmtime::Config config;
  config.epoch_interruption(true);
  config.parallel_compilation(true);
  config.strategy(wasmtime::Strategy::Cranelift);
  config.cranelift_opt_level(wasmtime::OptLevel::Speed);
  if (settings.pooling_allocator) {
    wasmtime::PoolAllocationConfig pool;
    pool.total_core_instances(settings.pool_instances);
    pool.total_memories(settings.pool_instances);
    pool.total_tables(settings.pool_instances);
    pool.max_memory_size(settings.max_memory_bytes);
    // Go's wasip1 runtime declares large function tables.
    pool.table_elements(100000);
    pool.max_core_instance_size(4 << 20);
    // No fiber stacks: the plugin never enables async support, and Wasmtime's default of 1,000
    // stacks costs a 2 GB reservation and one mprotect per guard page (1,000 system calls, about
    // 2 ms of start-up). Were async ever enabled, a fiber would fail to allocate, not crash.
    pool.total_stacks(0);
    // A finished instance's memory and table go back to their initial contents by copying its
    // dirty pages (found with one PAGEMAP_SCAN ioctl), up to this much a slot, rather than by
    // madvise: madvise flushes the TLB on every CPU the process ran on (an inter-processor
    // interrupt, expensive in a VM: ~90 us of an earlier-ABI step), and the next step would take
    // copy-on-write faults on the same pages again. The price: a warm slot keeps up to this much
    // resident. Larger dirty sets are reset by madvise beyond it, as before.
    pool.linear_memory_keep_resident(kKeepResidentBytes);
    pool.table_keep_resident(kKeepResidentBytes / 16);
    wwp_pooling_allocation_config_pagemap_scan_auto(pool.capi());
    config.pooling_allocation_strategy(pool);
  }
  return config;
}

wasmtime::Config make_baseline_config() {
  wasmtime::Config config;
  config.epoch_interruption(true);
  config.strategy(wasmtime::Strategy::Winch);
  return config;
}

std::string make_fingerprint(const EngineSettings& settings) {
#if defined(__aarch64__)
  constexpr const char* kArch = "aarch64";
#elif defined(__x86_64__)
  constexpr const char* kArch = "x86_64";
#else
#error "unsupported host architecture"
#endif
  return std::string("wasmtime-") + WWP_WASMTIME_VERSION + "-" + kArch + "-epoch-speed" +
         (settings.pooling_allocator ? "-pool" : "");
}

}  // namespace

Tier::Tier(wasmtime::Config config)
    : engine(std::move(config)),
      stdio_linker(engine),
      wasi_linker(engine),
      component_linker(engine) {
  if (auto p2 = component_linker.add_wasip2(); !p2)
    throw std::runtime_error("cannot define WASI preview 2: " + p2.err().message());
  for (wasmtime::Linker* linker : {&wasi_linker, &stdio_linker}) {
    linker->allow_shadowing(true);
    auto wasi = linker->define_wasi();
    if (!wasi) throw std::runtime_error("cannot define WASI: " + wasi.err().message());
    define_poll_oneoff(*linker);
    define_proc_exit(*linker);
    define_http_host_module(*linker);
  }
  define_captured_fd_write(stdio_linker);
}

Engine::Impl::Impl(const EngineSettings& s)
    : settings(s), optimized(make_config(s)), fingerprint(make_fingerprint(s)) {
  if (s.tiered) baseline.emplace(make_baseline_config());
  ticker = std::thread([this] {
    std::unique_lock lock(ticker_mutex);
    while (!ticker_wake.wait_for(lock, settings.epoch_tick, [this] { return stopping; })) {
      optimized.engine.increment_epoch();
      if (baseline) baseline->engine.increment_epoch();
    }
  });
}

Engine::Impl::~Impl() {
  {
    std::lock_guard lock(ticker_mutex);
    stopping = true;
  }
  ticker_wake.notify_all();
  ticker.join();
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

namespace {

// Wasmtime reserves the whole pool's address space at engine creation (a 4 GiB slot plus guards
// per memory) and panics, ending the process, when it cannot: under `ulimit -v`, or a tool such
// as valgrind. A trial reservation a little larger than Wasmtime's tells us beforehand.
bool can_reserve_pool(std::uint32_t instances) {
  const std::uint64_t bytes =
      std::uint64_t{instances} * ((4ULL << 30) + (64ULL << 20)) + (1ULL << 30);
  void* trial =
      ::mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (trial == MAP_FAILED) return false;
  ::munmap(trial, bytes);
  return true;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::create(EngineSettings settings) {
  if (settings.pooling_allocator && !can_reserve_pool(settings.pool_instances)) {
    settings.pooling_allocator = false;
    settings.pooling_fallback = true;
  }
  try {
    return std::unique_ptr<Engine>(new Engine(std::make_unique<Impl>(settings)));
  } catch (const std::exception& e) {
    return failed(std::string("cannot start the Wasm engine: ") + e.what());
  }
}

const std::string& Engine::fingerprint() const { return impl_->fingerprint; }

std::size_t Engine::interrupt_running(const std::string& reason) const {
  std::lock_guard lock(impl_->running_mutex);
  const StopReason stop{reason, /*transient=*/true};
  if (!impl_->interrupted) impl_->interrupted = stop;
  for (StopSignal* signal : impl_->running) signal->request(stop);
  return impl_->running.size();
}
const EngineSettings& Engine::settings() const { return impl_->settings; }

CompiledModule make_compiled_component(wasmtime::component::Component component, Tier& tier,
                                       bool baseline) {
  auto impl = std::make_shared<CompiledModule::Impl>();
  impl->tier = &tier;
  impl->baseline = baseline;
  const auto type = component.type();
  for (std::size_t i = 0; i < type.export_count(tier.engine); ++i) {
    auto exported = type.export_nth(tier.engine, i);
    if (exported && exported->first.starts_with("wasi:cli/run@0.2")) {
      impl->run_export = std::string(exported->first);
      impl->has_start = true;
    }
  }
  // Preview 2 reaches files only through wasi:filesystem, which every std library imports;
  // such a component gets the sandbox directory like a core module with path_open.
  for (std::size_t i = 0; i < type.import_count(tier.engine); ++i) {
    auto imported = type.import_nth(tier.engine, i);
    if (imported && imported->first.starts_with("wasi:filesystem/")) impl->uses_filesystem = true;
  }
  impl->code_size = 1 << 20;  // the C API does not tell; weigh every component like 1 MiB of code
  impl->component = std::move(component);
  return CompiledModule(std::move(impl));
}

CompiledModule make_compiled_module(wasmtime::Module module, Tier& tier, bool baseline) {
  auto impl = std::make_shared<CompiledModule::Impl>();
  impl->module = module;
  impl->tier = &tier;
  impl->baseline = baseline;
  for (const auto& import : module.imports()) {
    if (import.module() == "wasi_snapshot_preview1" && import.name() == "path_open") {
      impl->uses_filesystem = true;
    }
  }
  for (const auto& exported : module.exports()) {
    if (exported.name() == "_start") impl->has_start = true;
  }
  void* start = nullptr;
  void* end = nullptr;
  wasmtime_module_image_range(module.capi(), &start, &end);
  impl->code_size = static_cast<std::size_t>(static_cast<char*>(end) - static_cast<char*>(start));
  return CompiledModule(std::move(impl));
}

namespace {

// The binary format's layer field (bytes 6-7 of the preamble): 0 for core modules, 1 for
// components.
bool is_component(std::span<const std::uint8_t> wasm) {
  return wasm.size() >= 8 && wasm[6] == 1 && wasm[7] == 0;
}

Result<CompiledModule> compile_for(Tier& tier, bool baseline, std::span<const std::uint8_t> wasm) {
  static constexpr std::uint8_t kMagic[4] = {0, 'a', 's', 'm'};
  if (wasm.size() >= 4 && !std::equal(kMagic, kMagic + 4, wasm.begin())) {
    // Not a binary module: accept the text format, which module authors use for small tests.
    auto binary = wasmtime::wat2wasm(
        std::string_view(reinterpret_cast<const char*>(wasm.data()), wasm.size()));
    if (!binary)
      return failed("invalid Wasm module: not a binary module, and not valid WAT: " +
                    binary.err().message());
    std::vector<std::uint8_t> bytes = binary.ok();
    return compile_for(tier, baseline, bytes);
  }
  const wasmtime::Span<uint8_t> bytes(const_cast<std::uint8_t*>(wasm.data()), wasm.size());
  if (is_component(wasm)) {
    auto component = wasmtime::component::Component::compile(tier.engine, bytes);
    if (!component) return failed("invalid Wasm component: " + component.err().message());
    return make_compiled_component(component.ok(), tier, baseline);
  }
  auto module = wasmtime::Module::compile(tier.engine, bytes);
  if (!module) return failed("invalid Wasm module: " + module.err().message());
  return make_compiled_module(module.ok(), tier, baseline);
}

}  // namespace

Result<CompiledModule> Engine::compile(std::span<const std::uint8_t> wasm) const {
  return compile_for(impl_->optimized, false, wasm);
}

Result<CompiledModule> Engine::compile_baseline(std::span<const std::uint8_t> wasm) const {
  if (!impl_->baseline) return failed("tiered compilation is off");
  return compile_for(*impl_->baseline, true, wasm);
}

bool Engine::tiered() const { return impl_->baseline.has_value(); }

Result<CompiledModule> Engine::deserialize(std::span<const std::uint8_t> precompiled) const {
  const wasmtime::Span<uint8_t> bytes(const_cast<std::uint8_t*>(precompiled.data()),
                                      precompiled.size());
  // The artifact says which it is: Wasmtime refuses a component's as a module and vice versa.
  auto module = wasmtime::Module::deserialize(impl_->optimized.engine, bytes);
  if (module) return make_compiled_module(module.ok(), impl_->optimized, false);
  auto component = wasmtime::component::Component::deserialize(impl_->optimized.engine, bytes);
  if (component) return make_compiled_component(component.ok(), impl_->optimized, false);
  return failed("cannot load precompiled module: " + module.err().message());
}

Result<std::vector<std::uint8_t>> Engine::serialize(const CompiledModule& module) const {
  const auto& impl = module.impl();
  auto bytes = impl.component ? impl.component->serialize() : impl.module->serialize();
  if (!bytes) return failed("cannot serialize module: " + bytes.err().message());
  return std::move(bytes.ok());
}

bool CompiledModule::uses_filesystem() const { return impl_->uses_filesystem; }
bool CompiledModule::has_start() const { return impl_->has_start; }
std::size_t CompiledModule::code_size() const { return impl_->code_size; }
bool CompiledModule::baseline() const { return impl_->baseline; }

}  // namespace wwp::sandbox
