// An flock(2) on a lock file, the primitive behind the blob store's sharing between processes.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>

#include "common/result.hpp"

namespace wwp::store {

// An flock(2) on a lock file, released when the object dies. Works between processes and between
// threads of one process (every FileLock opens its own file description).
class FileLock {
 public:
  enum class Mode { Shared, Exclusive };

  FileLock() = default;
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  // Creates the file if needed. Blocking unless `wait` is given: then it polls and returns an
  // empty (not held) lock once `wait` has passed.
  static Result<FileLock> acquire(const std::filesystem::path& path, Mode mode,
                                  std::optional<std::chrono::milliseconds> wait = std::nullopt);
  // Never blocks: an empty lock if someone else holds a conflicting lock.
  static Result<FileLock> try_acquire(const std::filesystem::path& path, Mode mode);

  bool held() const { return fd_ >= 0; }
  explicit operator bool() const { return held(); }
  int fd() const { return fd_; }

  // Whether `path` still names the locked file (lock files may be unlinked by their holder).
  bool names(const std::filesystem::path& path) const;

  // Takes ownership of an open descriptor that already holds an flock.
  static FileLock adopt(int fd) { return FileLock(fd); }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace wwp::store
