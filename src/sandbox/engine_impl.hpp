// Private to sandbox/: the Wasmtime objects behind Engine and CompiledModule.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <wasmtime.hh>
#include <wasmtime/component.hh>

#include "sandbox/compiled_module.hpp"
#include "sandbox/engine.hpp"
#include "sandbox/stop_signal.hpp"

namespace wwp::sandbox {

// One compiler's engine and the linkers for its modules (a module runs only in a Store of the
// engine that compiled it).
struct Tier {
  wasmtime::Engine engine;
  // WASI with a native fd_write for stdout/stderr, for modules that cannot open files.
  wasmtime::Linker stdio_linker;
  // Plain WASI, for modules that use files (their fd_write must reach WASI's file table).
  wasmtime::Linker wasi_linker;
  // WASI preview 2 for components (wasi:cli/run). No wasi:http: see docs/permissions-and-limits.md.
  wasmtime::component::Linker component_linker;

  explicit Tier(wasmtime::Config config);
};

struct CompiledModule::Impl {
  // Exactly one of these: a core module or a component.
  std::optional<wasmtime::Module> module;
  std::optional<wasmtime::component::Component> component;
  std::string run_export;  // components: "wasi:cli/run@0.2.x", the interface _start stands for
  Tier* tier = nullptr;
  bool baseline = false;
  bool uses_filesystem = false;
  bool has_start = false;
  std::size_t code_size = 0;
};

struct Engine::Impl {
  EngineSettings settings;
  Tier optimized;                // Cranelift, pooling allocator
  std::optional<Tier> baseline;  // Winch, on-demand allocation (it runs only first steps)
  std::string fingerprint;

  // Stop signals of the steps running now, so interrupt_running() can reach them all.
  std::mutex running_mutex;
  std::set<StopSignal*> running;
  std::optional<StopReason> interrupted;  // set once: later steps stop at once too

  std::mutex ticker_mutex;
  std::condition_variable ticker_wake;
  bool stopping = false;
  std::thread ticker;

  explicit Impl(const EngineSettings& settings);
  ~Impl();
};

CompiledModule make_compiled_module(wasmtime::Module module, Tier& tier, bool baseline);
CompiledModule make_compiled_component(wasmtime::component::Component component, Tier& tier,
                                       bool baseline);

}  // namespace wwp::sandbox
