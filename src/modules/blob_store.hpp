// Content-addressed module bytes on disk: <root>/sha256/<hex>. Writes go to a temporary file in
// the same directory and are renamed into place, so readers never see a torn blob and several
// plugin processes can share the directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/result.hpp"

namespace wwp::modules {

struct Digest {
  std::string hex;  // 64 lowercase hex digits of SHA-256

  std::string str() const { return "sha256:" + hex; }
  bool operator==(const Digest&) const = default;
};

// Parses "sha256:<hex>" or a bare hex digest.
std::optional<Digest> parse_digest(std::string_view text);
Digest sha256_of(std::string_view bytes);

class BlobStore {
 public:
  explicit BlobStore(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path path_of(const Digest& digest) const;
  bool contains(const Digest& digest) const;

  // Stores `bytes` under their digest; if `expected` is given and differs, nothing is stored.
  Result<Digest> put(std::string_view bytes, const std::optional<Digest>& expected = std::nullopt);
  // Moves a fully written and verified temporary file (created by temp_path()) into place.
  Result<Ok> commit(const std::filesystem::path& temp_file, const Digest& digest);
  // A fresh temporary file name inside the store (same filesystem, so rename is atomic).
  std::filesystem::path temp_path() const;

  Result<std::string> read(const Digest& digest) const;

 private:
  std::filesystem::path root_;
};

}  // namespace wwp::modules
