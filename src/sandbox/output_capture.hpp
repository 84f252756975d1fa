// Captures stdout and stderr in memory, two ways:
// - Modules that cannot open files (no WASI path_open import) get a native fd_write: about 5x
//   cheaper per step than Wasmtime's custom-stream callbacks (docs/benchmarks.md). Only fds 1 and
//   2 can exist for them; anything else is EBADF. A write past the cap traps.
// - Modules with files keep WASI's own fd_write (file writes need it) and capture through the
//   custom-stream callbacks; a write past the cap fails with EFBIG and the step fails naming the
//   cap.
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
};

// Defines wasi_snapshot_preview1::fd_write in `linker` (which must allow shadowing and already
// define WASI). The store's data must hold a StepState*.
void define_captured_fd_write(wasmtime::Linker& linker);

// Routes the WASI context's stdout and stderr into `output` (which must outlive the store).
void capture_through_callbacks(wasmtime::WasiConfig& wasi, CapturedOutput& output);

}  // namespace wwp::sandbox
