// Which manifest digest a tag pointed to when it was last resolved, kept on disk so that every
// plugin process sharing the cache directory benefits (and a restart does not re-resolve every
// tag at once). One small JSON file per reference, replaced atomically.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "common/digest.hpp"
#include "common/result.hpp"

namespace wwp::oci {

struct TagEntry {
  std::string reference;  // canonical, registry/repo:tag
  Digest digest;
  std::chrono::system_clock::time_point resolved_at;
};

class TagCache {
 public:
  explicit TagCache(std::filesystem::path dir);

  // nullopt when unknown or unreadable (a damaged entry is just a miss).
  std::optional<TagEntry> get(const std::string& reference) const;
  Result<Ok> put(
      const std::string& reference, const Digest& digest,
      std::chrono::system_clock::time_point resolved_at = std::chrono::system_clock::now());

 private:
  std::filesystem::path file_of(const std::string& reference) const;
  std::filesystem::path dir_;
};

}  // namespace wwp::oci
