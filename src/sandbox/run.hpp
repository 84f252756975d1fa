// Runs one WASI command module to completion inside a fresh Store: deny-by-default (no
// filesystem unless a root directory is given, no network, no inherited environment).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "sandbox/compiled_module.hpp"
#include "sandbox/engine.hpp"
#include "sandbox/http_capability.hpp"
#include "sandbox/stop_signal.hpp"

namespace wwp::sandbox {

struct RunLimits {
  std::chrono::milliseconds timeout{30000};
  std::uint64_t memory_bytes = 256ULL << 20;
  std::uint64_t stdout_bytes = 1ULL << 20;
  std::uint64_t stderr_bytes = 1ULL << 20;
};

struct RunSpec {
  std::vector<std::string> argv;  // argv[0] is the program name
  std::vector<std::pair<std::string, std::string>> env;
  std::optional<std::string> stdin_data;
  // Mapped as "/" inside the module, read-write. Absent: the module sees no filesystem at all.
  std::optional<std::filesystem::path> root_dir;
  RunLimits limits;
  // Outbound HTTP (wasi_experimental_http); absent: every request is refused (error 7).
  std::optional<HttpPolicy> http;
  // Optional: ends the run early with End::Stopped when requested (see stop_signal.hpp).
  std::shared_ptr<StopSignal> stop;
  // Optional: the run ends with End::GaveUp once this passes (checked at epoch ticks).
  std::optional<std::chrono::steady_clock::time_point> give_up_at;
};

struct RunOutcome {
  enum class End {
    Exited,       // _start returned or proc_exit was called; see exit_code
    Trapped,      // a Wasm trap (unreachable, out-of-bounds, stack overflow...)
    TimedOut,     // limits.timeout elapsed
    OutputLimit,  // stdout or stderr exceeded its cap
    Stopped,      // RunSpec::stop or Engine::interrupt_running() ended it; see stop_transient
    GaveUp,       // RunSpec::give_up_at passed: the run is to be discarded
  };
  End end = End::Exited;
  int exit_code = 0;
  std::string message;  // trap message with a short Wasm backtrace, or which limit was hit
  std::string stdout_data;
  std::string stderr_data;
  std::uint64_t memory_bytes = 0;  // linear memory size when the module stopped
  bool stop_transient = false;     // End::Stopped for a reason that is not the step's fault
  bool memory_refused = false;     // the memory limit refused a growth (memory.grow returned -1)
  // What the host refused or what failed on the module's behalf (e.g. an HTTP destination not
  // allowed), for the step's message: the module only saw an error code.
  std::vector<std::string> notes;
};

// Errors are reserved for failures to start the module (missing imports, no _start, instance
// limits); everything the module does is reported in RunOutcome.
Result<RunOutcome> run(const Engine& engine, const CompiledModule& module, const RunSpec& spec);

}  // namespace wwp::sandbox
