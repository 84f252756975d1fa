// File-system helpers shared by the artifact code: an owning file descriptor, a scratch directory
// that removes itself, and placing a file or tree at a second location.
#pragma once

#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace wwp::artifacts {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd();

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release();
  // Closes and reports the error close() returned (a deferred write error on some filesystems).
  Result<Ok> close();

 private:
  int fd_ = -1;
};

// Opens with O_CLOEXEC added; errors name the path and errno's text.
Result<UniqueFd> open_file(const std::filesystem::path& path, int flags, unsigned mode = 0644);

// A fresh directory `<parent>/<prefix>XXXXXX` (mode 0700) removed with everything in it on
// destruction.
class TempDir {
 public:
  static Result<TempDir> create(const std::filesystem::path& parent, const std::string& prefix);
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&& other) noexcept;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }

 private:
  explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

// Makes `destination` show the same content as `source` (a file or a directory tree): hard links
// where the filesystem allows, copies otherwise. Symlinks are recreated as symlinks.
Result<Ok> link_or_copy_tree(const std::filesystem::path& source,
                             const std::filesystem::path& destination);

// Applies `mode` to `path`, and to everything below it when `recursive`.
Result<Ok> apply_mode(const std::filesystem::path& path, unsigned mode, bool recursive);

// Removes whatever is at `path` (a symlink itself, never its target). Missing is fine.
Result<Ok> remove_existing(const std::filesystem::path& path);

std::string errno_text(int error);

}  // namespace wwp::artifacts
