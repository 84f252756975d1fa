// A step's private directory, seen by the module as "/". Created with the earlier ABI's layout
// (/work, /work/artifacts-in, /work/artifacts-out, /tmp) and removed, whatever happens, when the
// owner goes out of scope: with a walk that handles any depth (a module can nest directories
// thousands deep), counting the removals that fail.
//
// Step directories live under a parent that several plugin processes may share (a node's cache
// volume). Each process names its directories step-<owner>-XXXXXX and holds a lock on
// <parent>/.owner-<owner>.lock while it runs, so the start-up sweep removes only what a process
// that is gone (crashed, killed, restarted) left behind.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace wwp::executor {

// How many step directories could not be removed since the process started (each is logged).
std::uint64_t sandbox_removal_failures();

class SandboxParent;

class SandboxDir {
 public:
  SandboxDir(SandboxDir&& other) noexcept;
  SandboxDir& operator=(SandboxDir&&) = delete;
  SandboxDir(const SandboxDir&) = delete;
  ~SandboxDir();

  const std::filesystem::path& root() const { return root_; }
  // Maps a path as the module sees it ("/tmp/out.txt") to the host path inside root().
  std::filesystem::path host_path(std::string_view guest_path) const;

 private:
  friend class SandboxParent;
  SandboxDir(std::filesystem::path root, const SandboxParent* parent)
      : root_(std::move(root)), parent_(parent) {}
  std::filesystem::path root_;
  const SandboxParent* parent_;  // takes the directory back for reuse
};

class SandboxParent {
 public:
  // Creates `parent` if needed and takes this process's owner lock in it.
  static Result<std::unique_ptr<SandboxParent>> open(const std::filesystem::path& parent);
  SandboxParent(const SandboxParent&) = delete;
  SandboxParent& operator=(const SandboxParent&) = delete;
  ~SandboxParent();

  // A clean step directory: one a finished step left (emptied back to the layout), or a new one.
  Result<SandboxDir> create_step() const;

  struct SweepReport {
    std::size_t removed = 0;
    std::size_t failed = 0;  // logged and counted in sandbox_removal_failures()
    std::size_t in_use = 0;  // belong to another running process
  };
  // Removes the step directories of owners that no longer run (and their lock files).
  SweepReport sweep() const;

  const std::filesystem::path& path() const { return path_; }

 private:
  friend class SandboxDir;
  SandboxParent(std::filesystem::path path, std::string owner, int lock_fd)
      : path_(std::move(path)), owner_(std::move(owner)), lock_fd_(lock_fd) {}
  // Takes a finished step's directory back: emptied to the layout and kept, or removed.
  void recycle(std::filesystem::path root) const;
  std::filesystem::path path_;
  std::string owner_;
  int lock_fd_;
  mutable std::mutex pool_mutex_;
  mutable std::vector<std::filesystem::path> pool_;  // clean directories, ready for a step
};

// Reads a file the module wrote, resolving `guest_path` with the sandbox as "/" so that ".." and
// symlinks cannot reach outside it (openat2 RESOLVE_IN_ROOT). NotFound if it does not exist.
Result<std::string> read_confined(const std::filesystem::path& root, std::string_view guest_path,
                                  std::uint64_t limit);

}  // namespace wwp::executor
