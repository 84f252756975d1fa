#include "sandbox/output_capture.hpp"

#include <cerrno>
#include <cstring>

#include "common/units.hpp"
#include "sandbox/step_state.hpp"

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

// Appends to the stream of `fd` unless that would pass its cap; then records the limit.
bool append(CapturedOutput& output, int fd, const char* data, std::size_t length) {
  std::string& sink = fd == 1 ? output.stdout_data : output.stderr_data;
  const std::uint64_t cap = fd == 1 ? output.stdout_cap : output.stderr_cap;
  if (sink.size() + length > cap) {
    output.limit_hit =
        std::string(fd == 1 ? "stdout" : "stderr") + " limit " + format_quantity(cap) + " exceeded";
    return false;
  }
  sink.append(data, length);
  return true;
}

template <int Fd>
std::ptrdiff_t stream_callback(void* data, const unsigned char* buffer, std::size_t length) {
  auto& output = *static_cast<CapturedOutput*>(data);
  if (!append(output, Fd, reinterpret_cast<const char*>(buffer), length)) return -EFBIG;
  return static_cast<std::ptrdiff_t>(length);
}

}  // namespace

void define_captured_fd_write(wasmtime::Linker& linker) {
  auto defined = linker.func_wrap(
      "wasi_snapshot_preview1", "fd_write",
      [](wasmtime::Caller caller, std::int32_t fd, std::int32_t iovs, std::int32_t iovs_len,
         std::int32_t nwritten) -> wasmtime::Result<std::int32_t, wasmtime::Trap> {
        if (fd != 1 && fd != 2) return kErrnoBadf;
        auto& output = step_state(caller).output;
        auto memory_export = caller.get_export("memory");
        if (!memory_export || !std::holds_alternative<wasmtime::Memory>(*memory_export))
          return kErrnoBadf;
        auto memory = std::get<wasmtime::Memory>(*memory_export).data(caller);
        const std::uint64_t size = memory.size();
        const auto base = static_cast<std::uint32_t>(iovs);
        const auto count = static_cast<std::uint32_t>(iovs_len);
        if (std::uint64_t{base} + std::uint64_t{count} * 8 > size) return kErrnoFault;
        std::uint64_t written = 0;
        for (std::uint32_t i = 0; i < count; ++i) {
          const std::uint32_t buf = load_u32(memory.data() + base + i * 8);
          const std::uint32_t len = load_u32(memory.data() + base + i * 8 + 4);
          if (std::uint64_t{buf} + len > size) return kErrnoFault;
          if (!append(output, fd, reinterpret_cast<const char*>(memory.data() + buf), len)) {
            return wasmtime::Trap(*output.limit_hit);
          }
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

void capture_through_callbacks(wasmtime::WasiConfig& wasi, CapturedOutput& output) {
  wasi_config_set_stdout_custom(wasi.capi(), stream_callback<1>, &output, nullptr);
  wasi_config_set_stderr_custom(wasi.capi(), stream_callback<2>, &output, nullptr);
}

}  // namespace wwp::sandbox
