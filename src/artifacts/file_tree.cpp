#include "artifacts/file_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace wwp::artifacts {

namespace fs = std::filesystem;

namespace {

std::string errno_message(int error) { return std::strerror(error); }

enum class Visit { Skip, Descend, Stop };

// One directory on the way down: its identity (to check ".." on the way back up), its name in its
// parent, and the subdirectories still to visit. Memory is the current path plus pending names.
struct Level {
  dev_t dev = 0;
  ino_t ino = 0;
  std::string name;
  std::vector<std::string> pending;
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// The walk itself. `on_entry(dir_fd, name, st, depth, path_length)` sees every entry (depth 1 for
// the root's children) and decides whether to descend; `on_leave(parent_fd, name)` runs after a
// directory's content was walked. With `keep_going`, failures to open a directory are recorded and
// the walk goes on (removal); otherwise the first one ends it.
class Walker {
 public:
  Walker(bool fix_permissions, bool keep_going)
      : fix_permissions_(fix_permissions), keep_going_(keep_going) {}

  template <class OnEntry, class OnLeave>
  Result<Ok> run(int root_fd, OnEntry&& on_entry, OnLeave&& on_leave) {
    Fd fd(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
    if (fd.get() < 0)
      return failed("cannot duplicate a directory descriptor: " + errno_message(errno));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return failed("cannot stat the tree: " + errno_message(errno));
    root_dev_ = st.st_dev;
    make_accessible(fd.get(), st);
    std::vector<Level> levels;
    levels.push_back({st.st_dev, st.st_ino, {}, {}});
    std::size_t path_length = 0;
    bool stop = false;
    WWP_TRY(read_dir(fd.get(), levels.back(), 0, path_length, on_entry, stop));
    while (!stop) {
      Level& top = levels.back();
      if (!top.pending.empty()) {
        std::string name = std::move(top.pending.back());
        top.pending.pop_back();
        auto child = open_child(fd.get(), name);
        if (!child) {
          WWP_TRY(note(child.error()));
          continue;
        }
        if (*child < 0) continue;  // gone, or on another device
        struct stat child_st {};
        ::fstat(*child, &child_st);
        path_length += name.size() + (levels.size() > 1 ? 1 : 0);
        levels.push_back({child_st.st_dev, child_st.st_ino, std::move(name), {}});
        fd.reset(*child);
        WWP_TRY(read_dir(fd.get(), levels.back(), levels.size() - 1, path_length, on_entry, stop));
        continue;
      }
      if (levels.size() == 1) break;
      Fd parent(::openat(fd.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      struct stat parent_st {};
      const Level& expected = levels[levels.size() - 2];
      if (parent.get() < 0 || ::fstat(parent.get(), &parent_st) != 0 ||
          parent_st.st_dev != expected.dev || parent_st.st_ino != expected.ino) {
        // Never continue from an unexpected place: the walk could leave the tree.
        return failed("the directory tree changed while it was walked");
      }
      fd.reset(::fcntl(parent.get(), F_DUPFD_CLOEXEC, 0));
      if (fd.get() < 0)
        return failed("cannot duplicate a directory descriptor: " + errno_message(errno));
      std::string name = std::move(levels.back().name);
      levels.pop_back();
      path_length -= name.size() + (levels.size() > 1 ? 1 : 0);
      WWP_TRY(on_leave(fd.get(), name));
    }
    if (first_error_) return *first_error_;
    return Ok{};
  }

 private:
  Result<Ok> note(Error error) {
    if (!keep_going_) return error;
    if (!first_error_) first_error_ = std::move(error);
    return Ok{};
  }

  void make_accessible(int fd, const struct stat& st) const {
    if (fix_permissions_ && (st.st_mode & 0700) != 0700) ::fchmod(fd, (st.st_mode & 07777) | 0700);
  }

  // The subdirectory `name` opened without following symlinks; -1 when it vanished or lies on
  // another device (a mount point is never entered).
  Result<int> open_child(int dir_fd, const std::string& name) const {
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int child = ::openat(dir_fd, name.c_str(), flags);
    if (child < 0 && errno == EACCES && fix_permissions_) {
      ::fchmodat(dir_fd, name.c_str(), 0700, 0);
      child = ::openat(dir_fd, name.c_str(), flags);
    }
    if (child < 0) {
      if (errno == ENOENT) return -1;
      return failed("cannot open directory " + name + ": " + errno_message(errno));
    }
    struct stat st {};
    if (::fstat(child, &st) != 0 || st.st_dev != root_dev_) {
      ::close(child);
      return -1;
    }
    make_accessible(child, st);
    return child;
  }

  template <class OnEntry>
  Result<Ok> read_dir(int fd, Level& level, std::size_t depth, std::size_t path_length,
                      OnEntry& on_entry, bool& stop) {
    // A second descriptor for reading, so the walk's own one keeps no directory stream state.
    int reader = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* dir = reader < 0 ? nullptr : ::fdopendir(reader);
    if (dir == nullptr) {
      const int error = errno;
      if (reader >= 0) ::close(reader);
      return note(failed("cannot read a directory: " + errno_message(error)));
    }
    Result<Ok> result = Ok{};
    while (dirent* entry = ::readdir(dir)) {
      const char* name = entry->d_name;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      struct stat st {};
      if (::fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;
        result = note(failed(std::string("cannot stat ") + name + ": " + errno_message(errno)));
        if (!result) break;
        continue;
      }
      const std::size_t entry_length = path_length + (depth > 0 ? 1 : 0) + std::strlen(name);
      auto visit = on_entry(fd, name, st, depth + 1, entry_length);
      if (!visit) {
        result = visit.error();
        break;
      }
      if (*visit == Visit::Stop) {
        stop = true;
        break;
      }
      if (*visit == Visit::Descend && S_ISDIR(st.st_mode)) level.pending.emplace_back(name);
    }
    ::closedir(dir);
    return result;
  }

  bool fix_permissions_;
  bool keep_going_;
  dev_t root_dev_ = 0;
  std::optional<Error> first_error_;
};

std::uint64_t entry_bytes(const struct stat& st) {
  if (S_ISREG(st.st_mode)) return static_cast<std::uint64_t>(st.st_size);
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

}  // namespace

Result<TreeUsage> measure_tree(const fs::path& root, const TreeLimits& limits) {
  TreeUsage usage;
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0) {
    return failed("cannot stat " + root.string() + ": " + errno_message(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    usage.entries = 1;
    usage.bytes = entry_bytes(st);
    if (usage.bytes > limits.max_bytes) usage.exceeded = TreeUsage::Exceeded::Bytes;
    return usage;
  }
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return failed("cannot open " + root.string() + ": " + errno_message(errno));
  std::unordered_set<ino_t> linked;  // hard-linked files already counted (bounded by max_entries)
  auto on_entry = [&](int, const char*, const struct stat& entry, std::size_t depth,
                      std::size_t path_length) -> Result<Visit> {
    auto stop_at = [&](TreeUsage::Exceeded why) {
      usage.exceeded = why;
      return Visit::Stop;
    };
    if (++usage.entries > limits.max_entries) return stop_at(TreeUsage::Exceeded::Entries);
    if (path_length > limits.max_path_bytes) return stop_at(TreeUsage::Exceeded::PathLength);
    if (!S_ISREG(entry.st_mode) || entry.st_nlink <= 1 || linked.insert(entry.st_ino).second) {
      usage.bytes += entry_bytes(entry);
    }
    if (usage.bytes > limits.max_bytes) return stop_at(TreeUsage::Exceeded::Bytes);
    if (S_ISDIR(entry.st_mode)) {
      if (depth > limits.max_depth) return stop_at(TreeUsage::Exceeded::Depth);
      usage.depth = std::max<std::uint64_t>(usage.depth, depth);
      return Visit::Descend;
    }
    return Visit::Skip;
  };
  Walker walker(/*fix_permissions=*/false, /*keep_going=*/false);
  WWP_TRY(walker.run(fd.get(), on_entry, [](int, const std::string&) { return Result<Ok>(Ok{}); }));
  return usage;
}

Result<Ok> remove_tree(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Ok{};
    return failed("cannot stat " + path.string() + ": " + errno_message(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return failed("cannot remove " + path.string() + ": " + errno_message(errno));
    }
    return Ok{};
  }
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return failed("cannot open " + path.string() + ": " + errno_message(errno));
  std::optional<Error> first_error;
  auto remember = [&](std::string what, int error) {
    if (!first_error) first_error = failed("cannot remove " + what + ": " + errno_message(error));
  };
  auto on_entry = [&](int dir_fd, const char* name, const struct stat& entry, std::size_t,
                      std::size_t) -> Result<Visit> {
    if (S_ISDIR(entry.st_mode)) return Visit::Descend;
    if (::unlinkat(dir_fd, name, 0) != 0 && errno != ENOENT) remember(name, errno);
    return Visit::Skip;
  };
  auto on_leave = [&](int parent_fd, const std::string& name) -> Result<Ok> {
    if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      remember(name, errno);
    }
    return Ok{};
  };
  Walker walker(/*fix_permissions=*/true, /*keep_going=*/true);
  auto walked = walker.run(fd.get(), on_entry, on_leave);
  fd.reset();
  if (!walked) return walked.error().context("cannot remove " + path.string());
  if (first_error) return first_error->context(path.string());
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
    return failed("cannot remove " + path.string() + ": " + errno_message(errno));
  }
  return Ok{};
}

}  // namespace wwp::artifacts
