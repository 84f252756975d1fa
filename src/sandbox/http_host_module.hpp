// Private to sandbox/: defines the `wasi_experimental_http` functions (see http_capability.hpp)
// in a linker. The store data must be a StepState*; its HttpSession says what the step may do.
#pragma once

#include <wasmtime.hh>

namespace wwp::sandbox {

void define_http_host_module(wasmtime::Linker& linker);

}  // namespace wwp::sandbox
