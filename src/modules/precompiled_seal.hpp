// Loading a precompiled file means running its machine code, so a file is used only when it
// proves it was written by this plugin for exactly this module and this engine: an HMAC-SHA256
// over (module digest, engine fingerprint, payload) under a key that lives beside the cache,
// readable and writable only by the plugin's user. Copying one module's file over another's,
// flipping a bit, or planting a file without the key all fail the check (the file is then
// rebuilt from the module). See docs/permissions-and-limits.md, "Compiled-module cache".
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace wwp::modules {

class PrecompiledSeal {
 public:
  static constexpr std::size_t kHeaderSize = 8 + 32;  // magic + HMAC-SHA256

  // Reads `<dir>/precompiled.key`, creating it (32 random bytes, mode 0600) when missing. Fails
  // when the key exists but another user owns it or others may read or write it.
  static Result<PrecompiledSeal> open(const std::filesystem::path& dir);

  // The header to write before `payload`.
  std::string header(std::string_view digest_hex, std::string_view fingerprint,
                     std::span<const std::uint8_t> payload) const;
  // The payload of a whole file (header + payload) when its seal holds for this module and
  // engine; nullopt otherwise.
  std::optional<std::span<const std::uint8_t>> open_file(std::string_view digest_hex,
                                                         std::string_view fingerprint,
                                                         std::span<const std::uint8_t> file) const;

 private:
  explicit PrecompiledSeal(std::array<std::uint8_t, 32> key) : key_(key) {}
  std::array<std::uint8_t, 32> mac(std::string_view digest_hex, std::string_view fingerprint,
                                   std::span<const std::uint8_t> payload) const;
  std::array<std::uint8_t, 32> key_;
};

// True when `path` is a regular file owned by this process's user that no one else may write.
bool owned_by_us(const std::filesystem::path& path);

}  // namespace wwp::modules
