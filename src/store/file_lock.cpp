#include "store/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace wwp::store {

namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

bool FileLock::names(const fs::path& path) const {
  struct stat by_fd {
  }, by_path{};
  if (fd_ < 0 || ::fstat(fd_, &by_fd) != 0 || ::stat(path.c_str(), &by_path) != 0) return false;
  return by_fd.st_ino == by_path.st_ino && by_fd.st_dev == by_path.st_dev;
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

// Opens (creating) the lock file and takes the lock. A lock file may be unlinked by its holder
// (eviction does so), so after locking we check that the path still names the file we locked;
// otherwise we would hold a lock nobody else can see.
Result<FileLock> lock_file(const fs::path& path, FileLock::Mode mode, bool blocking,
                           std::optional<std::chrono::milliseconds> wait) {
  const int operation = mode == FileLock::Mode::Shared ? LOCK_SH : LOCK_EX;
  const auto deadline = std::chrono::steady_clock::now() + wait.value_or(std::chrono::hours(0));
  for (;;) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
      std::error_code ec;
      fs::create_directories(path.parent_path(), ec);
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    }
    if (fd < 0) return failed("cannot open lock file " + path.string() + ": " + errno_text());
    FileLock lock = FileLock::adopt(fd);
    bool locked = false;
    if (blocking && !wait) {
      while (::flock(fd, operation) != 0) {
        if (errno != EINTR) return failed("cannot lock " + path.string() + ": " + errno_text());
      }
      locked = true;
    } else {
      for (;;) {
        if (::flock(fd, operation | LOCK_NB) == 0) {
          locked = true;
          break;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
          return failed("cannot lock " + path.string() + ": " + errno_text());
        }
        if (!blocking || std::chrono::steady_clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    if (!locked) return FileLock{};
    if (lock.names(path)) return lock;
    // Replaced or unlinked while we waited: lock the current file instead.
  }
}

}  // namespace

Result<FileLock> FileLock::acquire(const fs::path& path, Mode mode,
                                   std::optional<std::chrono::milliseconds> wait) {
  return lock_file(path, mode, true, wait);
}

Result<FileLock> FileLock::try_acquire(const fs::path& path, Mode mode) {
  return lock_file(path, mode, false, std::nullopt);
}

}  // namespace wwp::store
