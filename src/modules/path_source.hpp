// Modules named by `module: {path: ...}`: files under the plugin's --module-dir, never outside.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>
#include <system_error>
#include <unordered_map>

#include "common/result.hpp"
#include "modules/module_source.hpp"

namespace wwp::modules {

class PathSource : public ModuleSource {
 public:
  explicit PathSource(std::filesystem::path module_dir);
  ~PathSource() override;
  PathSource(const PathSource&) = delete;
  PathSource& operator=(const PathSource&) = delete;

  // The file, checked against ref.sha256 when the template gives one.
  Result<FetchedModule> fetch(const model::ModuleRef& ref, Deadline deadline) override;

  // Resolves `relative` inside the module directory (symlinks included: one openat2 with
  // RESOLVE_BENEATH, which refuses ".." or a symlink that leads out) and returns the file with
  // its digest. The digest is remembered per (inode, size, mtime), so a hot module is not hashed
  // again on every step.
  Result<FetchedModule> fetch(const std::string& relative);

 private:
  struct Stamp {
    std::uintmax_t inode = 0;
    std::uintmax_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  // Opens the module directory if not done yet (it may be mounted after start).
  std::error_code open_root_locked();

  std::filesystem::path module_dir_;
  std::filesystem::path canonical_root_;  // resolved once; empty if the directory is missing
  int root_fd_ = -1;                      // canonical_root_, opened O_PATH
  std::mutex mutex_;
  std::unordered_map<std::string, std::pair<Stamp, FetchedModule>> known_;
};

}  // namespace wwp::modules
