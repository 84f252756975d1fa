#include "executor/sandbox_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "artifacts/file_tree.hpp"
#include "common/file_bytes.hpp"
#include "common/open_beneath.hpp"
#include "model/legacy_abi.hpp"

namespace wwp::executor {

namespace fs = std::filesystem;

namespace {

std::atomic<std::uint64_t> removal_failures{0};

constexpr std::string_view kStepPrefix = "step-";
constexpr std::string_view kOwnerPrefix = ".owner-";
constexpr std::string_view kOwnerSuffix = ".lock";

fs::path owner_lock(const fs::path& parent, std::string_view owner) {
  return parent / (std::string(kOwnerPrefix) + std::string(owner) + std::string(kOwnerSuffix));
}

// 12 hex digits from the kernel's random source: unique enough among processes sharing a parent
// (process ids are not: every container's plugin is pid 1).
std::string random_owner() {
  unsigned char bytes[6] = {};
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    std::random_device device;
    for (auto& b : bytes) b = static_cast<unsigned char>(device());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string owner;
  for (unsigned char b : bytes) {
    owner += kHex[b >> 4];
    owner += kHex[b & 15];
  }
  return owner;
}

void remove_step_dir(const fs::path& root, std::string_view why) {
  auto removed = artifacts::remove_tree(root);
  if (removed) return;
  removal_failures.fetch_add(1, std::memory_order_relaxed);
  spdlog::error("sandbox {} ({}) could not be removed: {}", root.string(), why,
                removed.error().message);
}

// Empties a finished step's directory back to the fresh layout, so that the next step can have it
// without five mkdir and five rmdir (each an update of the filesystem's journal). False when
// anything is not as the layout wants it, or a directory grew (ext4 never shrinks one, and its
// blocks would count against the next step's disk limit): the caller removes the tree instead.
// Runs after the module ended, so nothing changes the tree meanwhile; every layout directory is
// opened with O_NOFOLLOW after its parent was checked, and other entries go through remove_tree,
// which never follows a symlink.
bool reset_to_layout(const fs::path& root) {
  const fs::path work = root / model::kWorkDir;
  const std::pair<fs::path, std::vector<std::string_view>> layout[] = {
      {root, {model::kWorkDir, "tmp"}},
      {work, {model::kArtifactsInDir, model::kArtifactsOutDir}},
      {work / model::kArtifactsInDir, {}},
      {work / model::kArtifactsOutDir, {}},
      {root / "tmp", {}}};
  constexpr off_t kOneBlock = 4096;
  for (const auto& [dir, keep] : layout) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    DIR* entries = ::fdopendir(fd);
    if (entries == nullptr) {
      ::close(fd);
      return false;
    }
    std::size_t kept = 0;
    bool ok = true;
    std::vector<std::string> extra;
    while (const dirent* entry = ::readdir(entries)) {
      const std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (std::find(keep.begin(), keep.end(), name) == keep.end()) {
        extra.emplace_back(name);
        continue;
      }
      struct stat st {};
      if (::fstatat(fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
        ok = false;
        break;
      }
      ++kept;
    }
    for (const auto& name : extra) {
      if (!ok) break;
      ok = artifacts::remove_tree(dir / name).ok();
    }
    struct stat st {};
    ok = ok && kept == keep.size() && ::fstat(fd, &st) == 0 && st.st_size <= kOneBlock;
    ::closedir(entries);
    if (!ok) return false;
  }
  return true;
}

// Clean step directories kept for reuse, per parent; more than this are removed.
constexpr std::size_t kMaxPooled = 16;

}  // namespace

std::uint64_t sandbox_removal_failures() {
  return removal_failures.load(std::memory_order_relaxed);
}

Result<std::unique_ptr<SandboxParent>> SandboxParent::open(const fs::path& parent) {
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec)
    return transient("cannot create the sandbox parent " + parent.string() + ": " + ec.message());
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string owner = random_owner();
    const fs::path lock = owner_lock(parent, owner);
    int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return transient("cannot create " + lock.string() + ": " + std::strerror(errno));
    }
    struct stat st {};
    // A sweeper in another process may have removed the file between create and lock.
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::fstat(fd, &st) == 0 && st.st_nlink > 0) {
      return std::unique_ptr<SandboxParent>(new SandboxParent(parent, std::move(owner), fd));
    }
    ::close(fd);
  }
  return transient("cannot take an owner lock in " + parent.string());
}

SandboxParent::~SandboxParent() {
  for (const auto& root : pool_) remove_step_dir(root, "plugin stopping");
  ::unlink(owner_lock(path_, owner_).c_str());
  ::close(lock_fd_);
}

Result<SandboxDir> SandboxParent::create_step() const {
  {
    std::lock_guard lock(pool_mutex_);
    if (!pool_.empty()) {
      SandboxDir dir{std::move(pool_.back()), this};
      pool_.pop_back();
      return dir;
    }
  }
  std::string pattern = (path_ / (std::string(kStepPrefix) + owner_ + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return transient("cannot create a sandbox directory in " + path_.string() + ": " +
                     std::strerror(errno));
  }
  SandboxDir dir{fs::path(pattern), this};
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

SandboxParent::SweepReport SandboxParent::sweep() const {
  SweepReport report;
  std::error_code ec;
  // Owner -> whether it still runs, asked once per owner; a dead owner's lock is held (by us)
  // until its directories are gone, so a new process can never pick the same name meanwhile.
  std::map<std::string, int> dead_owner_locks;
  std::set<std::string> live_owners{owner_};
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(kOwnerPrefix) && name.ends_with(kOwnerSuffix)) {
      const std::string owner =
          name.substr(kOwnerPrefix.size(), name.size() - kOwnerPrefix.size() - kOwnerSuffix.size());
      if (owner != owner_ && dead_owner_locks.count(owner) == 0 && live_owners.count(owner) == 0) {
        int fd = ::open(it->path().c_str(), O_RDWR | O_CLOEXEC);
        if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0) {
          dead_owner_locks[owner] = fd;  // unlinked below, after its directories are gone
        } else {
          if (fd >= 0) ::close(fd);
          live_owners.insert(owner);
        }
      }
      continue;
    }
    if (!name.starts_with(kStepPrefix)) continue;
    const std::string rest = name.substr(kStepPrefix.size());
    const auto dash = rest.find('-');
    // Directories without an owner come from versions before owners existed: nobody runs them.
    const std::string owner = dash == std::string::npos ? std::string() : rest.substr(0, dash);
    if (!owner.empty() && live_owners.count(owner) != 0) {
      ++report.in_use;
      continue;
    }
    if (!owner.empty() && dead_owner_locks.count(owner) == 0) {
      int fd = ::open(owner_lock(path_, owner).c_str(), O_RDWR | O_CLOEXEC);
      if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        live_owners.insert(owner);
        ++report.in_use;
        continue;
      }
      dead_owner_locks[owner] = fd;  // -1 when the lock file is gone: the owner is too
    }
    stale.push_back(it->path());
  }
  if (ec) spdlog::warn("sandbox sweep: cannot read {}: {}", path_.string(), ec.message());
  for (const auto& root : stale) {
    const auto before = sandbox_removal_failures();
    remove_step_dir(root, "left by a process that is gone");
    if (sandbox_removal_failures() == before) {
      ++report.removed;
    } else {
      ++report.failed;
    }
  }
  for (const auto& [owner, fd] : dead_owner_locks) {
    if (fd < 0) continue;
    ::unlink(owner_lock(path_, owner).c_str());
    ::close(fd);
  }
  return report;
}

void SandboxParent::recycle(fs::path root) const {
  {
    std::lock_guard lock(pool_mutex_);
    if (pool_.size() >= kMaxPooled) root.clear();
  }
  if (!root.empty() && reset_to_layout(root)) {
    std::lock_guard lock(pool_mutex_);
    pool_.push_back(std::move(root));
    return;
  }
  if (!root.empty()) remove_step_dir(root, "step finished");
}

SandboxDir::SandboxDir(SandboxDir&& other) noexcept
    : root_(std::move(other.root_)), parent_(other.parent_) {
  other.root_.clear();
}

SandboxDir::~SandboxDir() {
  if (root_.empty()) return;
  if (parent_ != nullptr) {
    parent_->recycle(std::move(root_));
    return;
  }
  remove_step_dir(root_, "step finished");  // never follows symlinks the module planted
}

fs::path SandboxDir::host_path(std::string_view guest_path) const {
  return root_ / fs::path(guest_path).relative_path();
}

Result<std::string> read_confined(const fs::path& root, std::string_view guest_path,
                                  std::uint64_t limit) {
  const std::string where(guest_path);
  int root_fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return failed("sandbox directory is gone: " + root.string());
  // Symlinks are followed, but RESOLVE_IN_ROOT resolves them (and "..") with the sandbox as "/".
  const int fd = open_beneath(root_fd, fs::path(guest_path).relative_path().string(),
                              O_RDONLY | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
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
