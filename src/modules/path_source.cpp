#include "modules/path_source.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/file_bytes.hpp"
#include "common/open_beneath.hpp"

namespace wwp::modules {

namespace fs = std::filesystem;

PathSource::PathSource(fs::path module_dir) : module_dir_(std::move(module_dir)) {
  std::lock_guard lock(mutex_);
  open_root_locked();
}

PathSource::~PathSource() {
  if (root_fd_ >= 0) ::close(root_fd_);
}

std::error_code PathSource::open_root_locked() {
  std::error_code ec;
  if (module_dir_.empty() || root_fd_ >= 0) return ec;
  fs::path root = fs::canonical(module_dir_, ec);
  if (ec) return ec;
  const int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return {errno, std::generic_category()};
  canonical_root_ = std::move(root);
  root_fd_ = fd;
  return ec;
}

Result<FetchedModule> PathSource::fetch(const model::ModuleRef& ref, Deadline /*local disk*/) {
  WWP_TRY_ASSIGN(FetchedModule fetched, fetch(ref.location));
  if (ref.sha256 && fetched.digest.hex != *ref.sha256) {
    return failed("module " + ref.location + ": digest mismatch: expected sha256:" + *ref.sha256 +
                  ", got " + fetched.digest.str());
  }
  return fetched;
}

Result<FetchedModule> PathSource::fetch(const std::string& relative) {
  if (module_dir_.empty()) {
    return failed("module path " + relative + ": the plugin has no --module-dir configured");
  }
  fs::path root;
  int root_fd = -1;
  {
    // The directory may be mounted after start; resolve it once it exists.
    std::lock_guard lock(mutex_);
    if (auto ec = open_root_locked())
      return failed("module directory " + module_dir_.string() + ": " + ec.message());
    root = canonical_root_;
    root_fd = root_fd_;
  }
  if (fs::path(relative).is_absolute())
    return invalid("module path " + relative + " is outside the module directory");
  const fs::path inside = fs::path(relative).lexically_normal();
  const int fd = open_beneath(root_fd, inside.string(), O_PATH | O_CLOEXEC,
                              RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
  if (fd < 0) {
    const int error = errno;
    if (error == EXDEV)
      return invalid("module path " + relative + " is outside the module directory");
    if (error == ENOENT || error == ENOTDIR)
      return not_found("module " + relative + " not found in " + module_dir_.string());
    return failed("module path " + relative + ": " + std::strerror(error));
  }
  struct stat st {};
  const int stat_result = ::fstat(fd, &st);
  ::close(fd);
  if (stat_result != 0) return failed("module path " + relative + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return invalid("module path " + relative + " is not a file");
  const fs::path candidate = root / inside;
  const Stamp stamp{st.st_ino, static_cast<std::uintmax_t>(st.st_size),
                    st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec};
  {
    std::lock_guard lock(mutex_);
    if (auto it = known_.find(candidate.string());
        it != known_.end() && it->second.first == stamp) {
      return it->second.second;
    }
  }
  auto bytes = read_file(candidate);
  if (!bytes) return bytes.error().context("module " + relative);
  FetchedModule fetched{sha256_of(*bytes), candidate, nullptr, candidate.string()};
  std::lock_guard lock(mutex_);
  known_[candidate.string()] = {stamp, fetched};
  return fetched;
}

}  // namespace wwp::modules
