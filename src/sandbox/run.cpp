#include "sandbox/run.hpp"

#include <wasi.h>

#include "common/units.hpp"
#include "sandbox/engine_impl.hpp"
#include "sandbox/output_capture.hpp"
#include "sandbox/step_state.hpp"

// Defined by wasmtime-shim/src/lib.rs: WASI file I/O on the calling thread, without a hand-off
// to Tokio's blocking pool and back for every operation.
extern "C" void wwp_wasi_config_allow_blocking_current_thread(wasi_config_t* config, bool enable);
extern "C" void wwp_store_memory_limiter(wasmtime_store_t* store, std::size_t memory_bytes,
                                         bool* refused);

namespace wwp::sandbox {

namespace {

constexpr std::size_t kBacktraceFrames = 8;

std::string describe_trap(const wasmtime::Trap& trap) {
  std::string message = trap.message();
  // Wasmtime's message already carries a backtrace when one was captured; keep it short.
  if (auto pos = message.find("\nwasm backtrace:"); pos != std::string::npos) {
    std::size_t end = pos;
    for (std::size_t line = 0; line <= kBacktraceFrames * 2 + 1 && end != std::string::npos;
         ++line) {
      end = message.find('\n', end + 1);
    }
    if (end != std::string::npos) message = message.substr(0, end) + "\n    ...";
    return message;
  }
  std::string trace;
  std::size_t shown = 0;
  for (const auto& frame : trap.trace()) {
    if (shown++ == kBacktraceFrames) {
      trace += "\n    ...";
      break;
    }
    auto name = frame.func_name();
    trace += "\n    " + std::to_string(shown - 1) + ": " +
             (name ? std::string(*name) : "<func " + std::to_string(frame.func_index()) + ">") +
             " @ 0x" + [&] {
               char hex[24];
               std::snprintf(hex, sizeof hex, "%zx", frame.module_offset());
               return std::string(hex);
             }();
  }
  if (!trace.empty()) message += "\nwasm backtrace:" + trace;
  return message;
}

std::uint64_t memory_size(wasmtime::Store& store, wasmtime::Instance& instance) {
  auto memory = instance.get(store, "memory");
  if (!memory || !std::holds_alternative<wasmtime::Memory>(*memory)) return 0;
  return std::get<wasmtime::Memory>(*memory).data(store).size();
}

// Registers a step's stop signal with the engine for as long as the step runs, so that
// Engine::interrupt_running() reaches it; a step started after the interruption stops at once.
class RunningRegistration {
 public:
  RunningRegistration(Engine::Impl& engine, StopSignal& signal) : engine_(engine), signal_(signal) {
    std::lock_guard lock(engine_.running_mutex);
    engine_.running.insert(&signal_);
    if (engine_.interrupted) signal_.request(*engine_.interrupted);
  }
  ~RunningRegistration() {
    std::lock_guard lock(engine_.running_mutex);
    engine_.running.erase(&signal_);
  }
  RunningRegistration(const RunningRegistration&) = delete;
  RunningRegistration& operator=(const RunningRegistration&) = delete;

 private:
  Engine::Impl& engine_;
  StopSignal& signal_;
};

// Checked at every epoch tick: the wall-clock deadline and the stop signal. Returning an error
// makes Wasmtime unwind the module; StepState::host_end records which of the two it was.
wasmtime_error_t* on_epoch_tick(wasmtime_context_t*, void* data, uint64_t* delta,
                                wasmtime_update_deadline_kind_t* kind) {
  if (static_cast<StepState*>(data)->must_end()) return wasmtime_error_new("step interrupted");
  *delta = 1;
  *kind = WASMTIME_UPDATE_DEADLINE_CONTINUE;
  return nullptr;
}

}  // namespace

Result<RunOutcome> run(const Engine& engine, const CompiledModule& module, const RunSpec& spec) {
  Engine::Impl& impl = engine.impl();
  if (!module.has_start()) {
    return failed(module.impl().component
                      ? "component exports no wasi:cli/run@0.2: build it as a WASI command "
                        "(a program with main)"
                      : "module has no _start function: build it as a WASI command (a program "
                        "with main)");
  }
  if (spec.limits.memory_bytes > impl.settings.max_memory_bytes) {
    return limit_exceeded("memory limit " + format_quantity(spec.limits.memory_bytes) +
                          " is above the plugin's maximum of " +
                          format_quantity(impl.settings.max_memory_bytes));
  }

  const std::shared_ptr<StopSignal> stop = spec.stop ? spec.stop : std::make_shared<StopSignal>();
  RunningRegistration registration(impl, *stop);
  Tier& tier = *module.impl().tier;
  wasmtime::Store store(tier.engine);
  StepState state;
  CapturedOutput& output = state.output;
  output.stdout_cap = spec.limits.stdout_bytes;
  output.stderr_cap = spec.limits.stderr_bytes;
  state.stop = stop.get();
  if (spec.give_up_at) state.give_up_at = *spec.give_up_at;
  if (spec.http) state.http.policy = &*spec.http;
  store.context().set_data(&state);
  // Like store.limiter(bytes, -1, ...), and it tells us when it refused a growth.
  wwp_store_memory_limiter(store.capi(), static_cast<std::size_t>(spec.limits.memory_bytes),
                           &state.memory_refused);

  state.wasi_epoch = std::chrono::steady_clock::now();
  wasmtime::WasiConfig wasi;
  // Each step runs on a worker thread of its own, which may block.
  wwp_wasi_config_allow_blocking_current_thread(wasi.capi(), true);
  wasi.argv(spec.argv);
  wasi.env(spec.env);
  if (spec.stdin_data) {
    wasm_byte_vec_t bytes;
    wasm_byte_vec_new(&bytes, spec.stdin_data->size(), spec.stdin_data->data());
    wasi_config_set_stdin_bytes(wasi.capi(), &bytes);
  }
  // The native fd_write serves core modules without files; components always use WASI's streams.
  const bool native_stdio = !module.uses_filesystem() && !module.impl().component;
  if (!native_stdio) capture_through_callbacks(wasi, output);
  if (spec.root_dir && !wasi.preopen_dir(spec.root_dir->string(), "/", /*fs_mutable=*/true)) {
    return failed("cannot open the sandbox directory " + spec.root_dir->string());
  }
  if (auto set = store.context().set_wasi(std::move(wasi)); !set) {
    return failed("cannot configure WASI: " + set.err().message());
  }
  state.deadline = std::chrono::steady_clock::now() + spec.limits.timeout;
  wasmtime_store_epoch_deadline_callback(store.capi(), on_epoch_tick, &state, nullptr);
  store.context().set_epoch_deadline(1);

  RunOutcome outcome;
  auto finish = [&](RunOutcome::End end) {
    outcome.end = end;
    outcome.stdout_data = std::move(output.stdout_data);
    outcome.stderr_data = std::move(output.stderr_data);
    outcome.notes = std::move(state.http.notes);
    outcome.memory_refused = state.memory_refused;
    return outcome;
  };
  // How the module ended when it did not return from _start: an output cap, proc_exit, the
  // deadline or a stop request; nullopt when none of these (a trap or error of its own).
  auto stopped_by_host = [&]() -> std::optional<RunOutcome> {
    if (output.limit_hit) {
      // However the module reacted to the refused write, the cap is why the step fails.
      outcome.message = *output.limit_hit;
      return finish(RunOutcome::End::OutputLimit);
    }
    if (state.exit_status) {
      outcome.exit_code = *state.exit_status;
      return finish(RunOutcome::End::Exited);
    }
    if (state.host_end == StepState::HostEnd::Deadline) {
      outcome.message = "timeout " + format_duration(spec.limits.timeout) + " exceeded";
      return finish(RunOutcome::End::TimedOut);
    }
    if (state.host_end == StepState::HostEnd::GiveUp) {
      outcome.message = "gave up";
      return finish(RunOutcome::End::GaveUp);
    }
    if (state.host_end == StepState::HostEnd::Stop) {
      const StopReason reason = stop->reason().value_or(StopReason{"stopped", false});
      outcome.message = reason.message;
      outcome.stop_transient = reason.transient;
      return finish(RunOutcome::End::Stopped);
    }
    return std::nullopt;
  };
  auto classify_trap = [&](const wasmtime::Trap& trap) {
    if (auto host = stopped_by_host()) return *host;
    outcome.message = describe_trap(trap);
    return finish(RunOutcome::End::Trapped);
  };

  const auto& compiled = module.impl();
  if (compiled.component) {
    // wasi:cli/run's `run: func() -> result`; exit() inside ends it like proc_exit does.
    auto instance = tier.component_linker.instantiate(store, *compiled.component);
    if (!instance) {
      if (auto host = stopped_by_host()) return *host;
      std::string message = instance.err().message();
      if (message.find("wasi:http/") != std::string::npos)
        message += " (wasi:http is not available to components: docs/permissions-and-limits.md)";
      return failed("cannot instantiate component: " + message);
    }
    auto interface = instance.ok().get_export_index(store, nullptr, compiled.run_export);
    auto run_index =
        interface ? instance.ok().get_export_index(store, &*interface, "run") : std::nullopt;
    auto run_func = run_index ? instance.ok().get_func(store, *run_index) : std::nullopt;
    if (!run_func) return failed("component export " + compiled.run_export + "#run is missing");
    wasmtime::component::Val result(false);
    auto called = run_func->call(store, {}, wasmtime::Span<wasmtime::component::Val>(&result, 1));
    if (auto host = stopped_by_host()) return *host;
    if (called) {
      outcome.exit_code = result.is_result() && result.get_result().is_ok() ? 0 : 1;
      return finish(RunOutcome::End::Exited);
    }
    const auto& error = called.err();
    if (auto code = error.i32_exit()) {
      outcome.exit_code = *code;
      return finish(RunOutcome::End::Exited);
    }
    outcome.message = error.message();
    return finish(RunOutcome::End::Trapped);
  }

  wasmtime::Linker& linker = native_stdio ? tier.stdio_linker : tier.wasi_linker;
  auto instance = linker.instantiate(store, *compiled.module);
  if (!instance) {
    const auto& err = instance.err().data;
    if (const auto* trap = std::get_if<wasmtime::Trap>(&err)) return classify_trap(*trap);
    if (auto host = stopped_by_host()) return *host;
    if (state.memory_refused) {
      return limit_exceeded("the module's initial memory is larger than its memory limit " +
                            format_quantity(spec.limits.memory_bytes));
    }
    return failed("cannot instantiate module: " + std::get<wasmtime::Error>(err).message());
  }
  wasmtime::Instance started = instance.ok();
  auto start = started.get(store, "_start");
  if (!start || !std::holds_alternative<wasmtime::Func>(*start)) {
    return failed("module export _start is not a function");
  }
  auto called = std::get<wasmtime::Func>(*start).call(store, {});
  outcome.memory_bytes = memory_size(store, started);
  if (auto host = stopped_by_host()) return *host;
  if (called) return finish(RunOutcome::End::Exited);

  const auto& err = called.err().data;
  if (const auto* trap = std::get_if<wasmtime::Trap>(&err)) return classify_trap(*trap);
  const auto& error = std::get<wasmtime::Error>(err);
  if (auto code = error.i32_exit()) {
    outcome.exit_code = *code;
    return finish(RunOutcome::End::Exited);
  }
  outcome.message = error.message();
  return finish(RunOutcome::End::Trapped);
}

}  // namespace wwp::sandbox
