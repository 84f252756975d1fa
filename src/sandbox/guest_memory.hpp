// Private to sandbox/: bounds-checked little-endian access to a module's linear memory for the
// host functions we define. Every offset comes from the module, so every access is checked.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <wasmtime.hh>

namespace wwp::sandbox {

class GuestMemory {
 public:
  // The caller's exported "memory", or nullopt when the module exports none.
  static std::optional<GuestMemory> of(wasmtime::Caller& caller) {
    auto exported = caller.get_export("memory");
    if (!exported || !std::holds_alternative<wasmtime::Memory>(*exported)) return std::nullopt;
    return GuestMemory(std::get<wasmtime::Memory>(*exported).data(caller));
  }

  bool contains(std::uint64_t offset, std::uint64_t length) const {
    return offset <= bytes_.size() && length <= bytes_.size() - offset;
  }
  template <class T>
  std::optional<T> load(std::uint64_t offset) const {
    if (!contains(offset, sizeof(T))) return std::nullopt;
    T value;
    std::memcpy(&value, bytes_.data() + offset, sizeof value);  // Wasm and our hosts: little-endian
    return value;
  }
  template <class T>
  bool store(std::uint64_t offset, T value) {
    if (!contains(offset, sizeof(T))) return false;
    std::memcpy(bytes_.data() + offset, &value, sizeof value);
    return true;
  }
  const std::uint8_t* data() const { return bytes_.data(); }
  std::uint8_t* data() { return bytes_.data(); }
  std::uint64_t size() const { return bytes_.size(); }

 private:
  explicit GuestMemory(wasmtime::Span<uint8_t> bytes) : bytes_(bytes) {}
  wasmtime::Span<uint8_t> bytes_;
};

// WASI preview 1 errno values used by our host functions.
namespace wasi_errno {
inline constexpr std::int32_t kSuccess = 0;
inline constexpr std::int32_t kBadf = 8;
inline constexpr std::int32_t kFault = 21;
inline constexpr std::int32_t kInval = 28;
inline constexpr std::int32_t kNotsup = 58;
}  // namespace wasi_errno

}  // namespace wwp::sandbox
