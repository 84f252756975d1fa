// A module compiled for this process's Engine. Cheap to copy (shared); safe to instantiate from
// many threads at once. Opaque so that only sandbox/ includes wasmtime.hh.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace wwp::sandbox {

class CompiledModule {
 public:
  struct Impl;

  CompiledModule() = default;
  explicit CompiledModule(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  explicit operator bool() const { return impl_ != nullptr; }
  const Impl& impl() const { return *impl_; }

  // Whether the module imports WASI's path_open: if not, it cannot see any file, and the
  // executor skips preparing a sandbox directory (the costly part of a step).
  bool uses_filesystem() const;
  bool has_start() const;
  // Bytes of machine code; what the in-memory cache weighs entries by.
  std::size_t code_size() const;
  // Compiled by the baseline tier (Winch: fast to compile, slower to run); see
  // Engine::compile_baseline. Baseline code is never written to the disk cache.
  bool baseline() const;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace wwp::sandbox
