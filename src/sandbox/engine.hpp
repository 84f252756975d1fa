// One Wasmtime engine per process: compilation settings, the pooling allocator, the epoch ticker
// that enforces wall-clock timeouts, and the WASI linker shared by every execution.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "sandbox/compiled_module.hpp"

namespace wwp::sandbox {

struct EngineSettings {
  // The pooling allocator pre-reserves instance slots: instantiation becomes a few page-table
  // operations instead of mmap/munmap per step.
  bool pooling_allocator = true;
  std::uint32_t pool_instances = 128;
  // Set by Engine::create when the pool's address space could not be reserved (ulimit -v): the
  // engine then allocates on demand, and settings() says so.
  bool pooling_fallback = false;
  // Upper bound for any module's linear memory (templates may ask for less, never more).
  std::uint64_t max_memory_bytes = 4ULL << 30;
  // Granularity of wall-clock timeouts.
  std::chrono::milliseconds epoch_tick{5};
  // Tiered compilation: a second engine with Winch, whose code a module runs until Cranelift's
  // is ready (see modules::CompiledCache). Off: every module waits for Cranelift.
  bool tiered = true;
};

class Engine {
 public:
  // Fails when the settings cannot be honoured (e.g. the pooling allocator cannot reserve memory).
  static Result<std::unique_ptr<Engine>> create(EngineSettings settings = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Optimised code (Cranelift), the kind that is cached on disk.
  Result<CompiledModule> compile(std::span<const std::uint8_t> wasm) const;
  // Baseline code (Winch), about five times faster to compile; fails when tiering is off or
  // Winch does not support something the module uses (then compile() is the way).
  Result<CompiledModule> compile_baseline(std::span<const std::uint8_t> wasm) const;
  bool tiered() const;
  // Loads bytes produced by serialize() with the same engine configuration.
  Result<CompiledModule> deserialize(std::span<const std::uint8_t> precompiled) const;
  Result<std::vector<std::uint8_t>> serialize(const CompiledModule& module) const;

  // Identifies the engine configuration and Wasmtime version, so precompiled modules of
  // another configuration are never loaded.
  const std::string& fingerprint() const;
  const EngineSettings& settings() const;

  // Ends every step running now (End::Stopped, transient) and every step started later: used
  // when the shutdown grace period is over. Returns how many running steps were told to stop.
  std::size_t interrupt_running(const std::string& reason) const;

  struct Impl;
  Impl& impl() const { return *impl_; }

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wwp::sandbox
