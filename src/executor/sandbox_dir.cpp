#include "executor/sandbox_dir.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/file_bytes.hpp"
#include "model/legacy_abi.hpp"

namespace wwp::executor {

namespace fs = std::filesystem;

Result<SandboxDir> SandboxDir::create(const fs::path& parent) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec)
    return transient("cannot create the sandbox parent " + parent.string() + ": " + ec.message());
  std::string pattern = (parent / "step-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return transient("cannot create a sandbox directory in " + parent.string() + ": " +
                     std::strerror(errno));
  }
  SandboxDir dir{fs::path(pattern)};
  const fs::path work = dir.root_ / model::kWorkDir;
  for (const fs::path& sub :
       {work, work / model::kArtifactsInDir, work / model::kArtifactsOutDir, dir.root_ / "tmp"}) {
    if (::mkdir(sub.c_str(), 0755) != 0) {
      return transient("cannot prepare sandbox directory " + sub.string() + ": " +
                       std::strerror(errno));
    }
  }
  return dir;
}

SandboxDir::SandboxDir(SandboxDir&& other) noexcept : root_(std::move(other.root_)) {
  other.root_.clear();
}

SandboxDir::~SandboxDir() {
  if (root_.empty()) return;
  std::error_code ec;
  fs::remove_all(root_, ec);  // does not follow symlinks the module may have planted
}

fs::path SandboxDir::host_path(std::string_view guest_path) const {
  return root_ / fs::path(guest_path).relative_path();
}

Result<std::string> read_confined(const fs::path& root, std::string_view guest_path,
                                  std::uint64_t limit) {
  const std::string where(guest_path);
  int root_fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return failed("sandbox directory is gone: " + root.string());
  open_how how{};
  // Symlinks are followed, but RESOLVE_IN_ROOT resolves them (and "..") with the sandbox as "/".
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const std::string relative = fs::path(guest_path).relative_path().string();
  int fd = static_cast<int>(
      ::syscall(SYS_openat2, root_fd, relative.empty() ? "." : relative.c_str(), &how, sizeof how));
  const int open_errno = errno;
  ::close(root_fd);
  if (fd < 0) {
    if (open_errno == ENOENT) return not_found(where + " does not exist");
    if (open_errno == ELOOP) return failed(where + ": too many levels of symbolic links");
    return failed("cannot open " + where + ": " + std::strerror(open_errno));
  }
  return read_open_file(fd, where, limit);
}

}  // namespace wwp::executor
