#include "sandbox/output_capture.hpp"

#include <cstring>

#include "common/units.hpp"

namespace wwp::sandbox {

namespace {

constexpr std::int32_t kErrnoSuccess = 0;
constexpr std::int32_t kErrnoBadf = 8;
constexpr std::int32_t kErrnoFault = 21;
constexpr std::int32_t kErrnoInval = 28;

std::uint32_t load_u32(const std::uint8_t* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);  // Wasm memory is little-endian, as is every host we build for
  return v;
}

wasmtime::Result<std::int32_t, wasmtime::Trap> delegate(wasmtime::Caller& caller, CapturedOutput& state,
                                                        std::int32_t fd, std::int32_t iovs,
                                                        std::int32_t iovs_len, std::int32_t nwritten) {
  if (!state.wasi_fd_write) {
    auto original = state.wasi_linker->get(caller, "wasi_snapshot_preview1", "fd_write");
    if (!original || !std::holds_alternative<wasmtime::Func>(*original)) return kErrnoBadf;
    state.wasi_fd_write = std::get<wasmtime::Func>(*original);
  }
  auto result = state.wasi_fd_write->call(
      caller, {wasmtime::Val(fd), wasmtime::Val(iovs), wasmtime::Val(iovs_len), wasmtime::Val(nwritten)});
  if (!result) {
    const auto& err = result.err().data;
    if (const auto* trap = std::get_if<wasmtime::Trap>(&err)) return wasmtime::Trap(trap->message());
    return wasmtime::Trap(std::get<wasmtime::Error>(err).message());
  }
  return result.ok()[0].i32();
}

}  // namespace

void define_captured_fd_write(wasmtime::Linker& linker) {
  auto defined = linker.func_wrap(
      "wasi_snapshot_preview1", "fd_write",
      [](wasmtime::Caller caller, std::int32_t fd, std::int32_t iovs, std::int32_t iovs_len,
         std::int32_t nwritten) -> wasmtime::Result<std::int32_t, wasmtime::Trap> {
        auto& state = *std::any_cast<CapturedOutput*>(wasmtime::Store::Context(caller).get_data());
        if (fd != 1 && fd != 2) return delegate(caller, state, fd, iovs, iovs_len, nwritten);

        auto memory_export = caller.get_export("memory");
        if (!memory_export || !std::holds_alternative<wasmtime::Memory>(*memory_export)) {
          return kErrnoBadf;
        }
        auto memory = std::get<wasmtime::Memory>(*memory_export).data(caller);
        const std::uint64_t size = memory.size();
        const auto base = static_cast<std::uint32_t>(iovs);
        const auto count = static_cast<std::uint32_t>(iovs_len);
        if (std::uint64_t{base} + std::uint64_t{count} * 8 > size) return kErrnoFault;

        std::string& sink = fd == 1 ? state.stdout_data : state.stderr_data;
        const std::uint64_t cap = fd == 1 ? state.stdout_cap : state.stderr_cap;
        std::uint64_t written = 0;
        for (std::uint32_t i = 0; i < count; ++i) {
          const std::uint32_t buf = load_u32(memory.data() + base + i * 8);
          const std::uint32_t len = load_u32(memory.data() + base + i * 8 + 4);
          if (std::uint64_t{buf} + len > size) return kErrnoFault;
          if (sink.size() + len > cap) {
            state.limit_hit = std::string(fd == 1 ? "stdout" : "stderr") + " limit " +
                              format_quantity(cap) + " exceeded";
            return wasmtime::Trap(*state.limit_hit);
          }
          sink.append(reinterpret_cast<const char*>(memory.data() + buf), len);
          written += len;
        }
        const auto out = static_cast<std::uint32_t>(nwritten);
        if (std::uint64_t{out} + 4 > size) return kErrnoFault;
        const auto written32 = static_cast<std::uint32_t>(written);
        if (written32 != written) return kErrnoInval;
        std::memcpy(memory.data() + out, &written32, sizeof written32);
        return kErrnoSuccess;
      });
  if (!defined) throw std::runtime_error("cannot define fd_write: " + defined.err().message());
}

}  // namespace wwp::sandbox
