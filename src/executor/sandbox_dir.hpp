// A step's private directory, seen by the module as "/". Created with the earlier ABI's layout
// (/work, /work/artifacts-in, /work/artifacts-out, /tmp) and removed, whatever happens, when the
// owner goes out of scope.
#pragma once

#include <filesystem>

#include "common/result.hpp"

namespace wwp::executor {

class SandboxDir {
 public:
  static Result<SandboxDir> create(const std::filesystem::path& parent);

  SandboxDir(SandboxDir&& other) noexcept;
  SandboxDir& operator=(SandboxDir&&) = delete;
  SandboxDir(const SandboxDir&) = delete;
  ~SandboxDir();

  const std::filesystem::path& root() const { return root_; }
  // Maps a path as the module sees it ("/tmp/out.txt") to the host path inside root().
  std::filesystem::path host_path(std::string_view guest_path) const;

 private:
  explicit SandboxDir(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

// Reads a file the module wrote, resolving `guest_path` with the sandbox as "/" so that ".." and
// symlinks cannot reach outside it (openat2 RESOLVE_IN_ROOT). NotFound if it does not exist.
Result<std::string> read_confined(const std::filesystem::path& root, std::string_view guest_path,
                                  std::uint64_t limit);

}  // namespace wwp::executor
