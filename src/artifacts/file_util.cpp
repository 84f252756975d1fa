#include "artifacts/file_util.hpp"

#include "artifacts/file_tree.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

namespace wwp::artifacts {

namespace fs = std::filesystem;

std::string errno_text(int error) { return std::strerror(error); }

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Result<Ok> UniqueFd::close() {
  if (fd_ < 0) return Ok{};
  int fd = release();
  if (::close(fd) != 0 && errno != EINTR) return failed("close failed: " + errno_text(errno));
  return Ok{};
}

Result<UniqueFd> open_file(const fs::path& path, int flags, unsigned mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return failed("cannot open " + path.string() + ": " + errno_text(errno));
  return UniqueFd(fd);
}

Result<TempDir> TempDir::create(const fs::path& parent, const std::string& prefix) {
  std::string pattern = (parent / (prefix + "XXXXXX")).string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    return failed("cannot create a scratch directory in " + parent.string() + ": " +
                  errno_text(errno));
  }
  return TempDir(fs::path(buffer.data()));
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) (void)remove_tree(path_);
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  (void)remove_tree(path_);  // best effort; the sandbox around it is removed and checked anyway
}

namespace {

Result<Ok> link_or_copy_file(const fs::path& source, const fs::path& destination) {
  if (::link(source.c_str(), destination.c_str()) == 0) return Ok{};
  std::error_code ec;
  fs::copy_file(source, destination, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    return failed("cannot link or copy " + source.string() + " to " + destination.string() + ": " +
                  ec.message());
  }
  return Ok{};
}

}  // namespace

Result<Ok> link_or_copy_tree(const fs::path& source, const fs::path& destination) {
  std::error_code ec;
  auto status = fs::symlink_status(source, ec);
  if (ec) return failed("cannot stat " + source.string() + ": " + ec.message());
  if (fs::is_symlink(status)) {
    fs::copy_symlink(source, destination, ec);
    if (ec) return failed("cannot copy symlink " + source.string() + ": " + ec.message());
    return Ok{};
  }
  if (!fs::is_directory(status)) return link_or_copy_file(source, destination);

  fs::create_directory(destination, ec);
  if (ec) return failed("cannot create " + destination.string() + ": " + ec.message());
  for (fs::directory_iterator it(source, ec), end; !ec && it != end; it.increment(ec)) {
    WWP_TRY(link_or_copy_tree(it->path(), destination / it->path().filename()));
  }
  if (ec) return failed("cannot read " + source.string() + ": " + ec.message());
  // Last, so a read-only source directory does not stop us filling the copy.
  fs::permissions(destination, status.permissions(), ec);
  if (ec) return failed("cannot set the mode of " + destination.string() + ": " + ec.message());
  return Ok{};
}

Result<Ok> apply_mode(const fs::path& path, unsigned mode, bool recursive) {
  auto chmod_one = [](const fs::path& p, unsigned m) -> Result<Ok> {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0)
      return failed("cannot stat " + p.string() + ": " + errno_text(errno));
    if (S_ISLNK(st.st_mode)) return Ok{};  // a symlink's mode means nothing; never follow it
    if (::chmod(p.c_str(), m) != 0) {
      return failed("cannot chmod " + p.string() + ": " + errno_text(errno));
    }
    return Ok{};
  };
  std::error_code ec;
  if (!recursive || !fs::is_directory(fs::symlink_status(path, ec))) return chmod_one(path, mode);
  // Collect first and change modes deepest-first: a mode without the x bit on a directory would
  // otherwise stop the walk from entering it.
  std::vector<fs::path> paths{path};
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    paths.push_back(it->path());
  }
  if (ec) return failed("cannot read " + path.string() + ": " + ec.message());
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) WWP_TRY(chmod_one(*it, mode));
  return Ok{};
}

Result<Ok> remove_existing(const fs::path& path) { return remove_tree(path); }

}  // namespace wwp::artifacts
