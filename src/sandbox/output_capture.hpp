// Captures stdout and stderr in memory by defining WASI's fd_write natively: about 5x cheaper per
// step than Wasmtime's custom stdout callbacks (docs/benchmarks.md). Writes to any other
// descriptor go to the regular WASI implementation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <wasmtime.hh>

namespace wwp::sandbox {

struct CapturedOutput {
  std::string stdout_data;
  std::string stderr_data;
  std::uint64_t stdout_cap = 0;
  std::uint64_t stderr_cap = 0;
  std::optional<std::string> limit_hit;  // "stdout limit 1Mi exceeded"
  wasmtime::Linker* wasi_linker = nullptr;
  std::optional<wasmtime::Func> wasi_fd_write;  // resolved on first use per store
};

// Defines wasi_snapshot_preview1::fd_write in `linker` (which must allow shadowing and already
// define WASI). The store's data must hold a CapturedOutput*.
void define_captured_fd_write(wasmtime::Linker& linker);

}  // namespace wwp::sandbox
