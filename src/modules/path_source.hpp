// Modules named by `module: {path: ...}`: files under the plugin's --module-dir, never outside.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/result.hpp"
#include "modules/blob_store.hpp"

namespace wwp::modules {

struct FetchedFile {
  Digest digest;
  std::filesystem::path file;
  // Keeps the blob from being evicted from a shared cache until the module is compiled.
  std::shared_ptr<const void> lease;
};

class PathSource {
 public:
  explicit PathSource(std::filesystem::path module_dir);

  // Resolves `relative` inside the module directory (symlinks included) and returns the file with
  // its digest. The digest is remembered per (inode, size, mtime), so a hot module is not hashed
  // again on every step.
  Result<FetchedFile> fetch(const std::string& relative);

 private:
  struct Stamp {
    std::uintmax_t inode = 0;
    std::uintmax_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  std::filesystem::path module_dir_;
  std::filesystem::path canonical_root_;  // resolved once; empty if the directory is missing
  std::mutex mutex_;
  std::unordered_map<std::string, std::pair<Stamp, FetchedFile>> known_;
};

}  // namespace wwp::modules
