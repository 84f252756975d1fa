// Private to sandbox/: WASI preview 1 functions we define in place of Wasmtime's own, because
// theirs cannot keep a promise of ours:
// - poll_oneoff: Wasmtime's sleeps without looking at the step's deadline or stop signal (a
//   module sleeping an hour would hold a worker for an hour). Ours sleeps in short slices and
//   ends the module at the deadline. File descriptors are always ready in our sandbox (regular
//   files, stdin from memory, captured stdout/stderr), so fd subscriptions complete at once.
// - proc_exit: Wasmtime's turns a status >= 126 into an error that reads like a trap; ours
//   records any status so `exit(255)` is reported as exit code 255.
// The linker must allow shadowing and already define WASI; the store data must be a StepState*.
#pragma once

#include <wasmtime.hh>

namespace wwp::sandbox {

void define_poll_oneoff(wasmtime::Linker& linker);
void define_proc_exit(wasmtime::Linker& linker);

}  // namespace wwp::sandbox
