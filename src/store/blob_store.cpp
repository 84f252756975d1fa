#include "store/blob_store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/atomic_file.hpp"

namespace wwp::store {

namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

}  // namespace

Error digest_mismatch(const Digest& expected) {
  return failed("digest mismatch: the bytes do not match the expected " + expected.str());
}

// ---- BlobStore ----

BlobStore::BlobStore(fs::path root) : root_(std::move(root)) {}

fs::path BlobStore::path_of(const Digest& digest) const { return root_ / "sha256" / digest.hex; }

fs::path BlobStore::lock_path(const Digest& digest, std::string_view kind) const {
  return root_ / "locks" / (digest.hex + "." + std::string(kind));
}

bool BlobStore::contains(const Digest& digest) const {
  std::error_code ec;
  return fs::is_regular_file(path_of(digest), ec);
}

Result<Digest> BlobStore::put(std::string_view bytes, const std::optional<Digest>& expected) {
  Digest digest = sha256_of(bytes);
  if (expected && *expected != digest) {
    return digest_mismatch(*expected);
  }
  if (contains(digest)) return digest;
  auto out = writer();
  if (!out) return out.error();
  WWP_TRY(out->write(bytes));
  return out->commit(digest);
}

Result<std::string> BlobStore::read(const Digest& digest) const {
  std::ifstream in(path_of(digest), std::ios::binary);
  if (!in) return not_found("blob " + digest.str() + " is not in " + root_.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// ---- Writer ----

Result<BlobStore::Writer> BlobStore::writer() const {
  std::error_code ec;
  fs::create_directories(root_ / "sha256", ec);
  if (ec) return failed("cannot create blob store " + root_.string() + ": " + ec.message());
  fs::path temp = temp_path_in(root_ / "sha256");
  const int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return failed("cannot create " + temp.string() + ": " + errno_text());
  FileLock file = FileLock::adopt(fd);
  // Nobody else knows the name yet, so this cannot block.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::unlink(temp.c_str());
    return failed("cannot lock " + temp.string() + ": " + errno_text());
  }
  return Writer(root_, std::move(temp), std::move(file));
}

BlobStore::Writer::Writer(fs::path root, fs::path temp, FileLock file)
    : root_(std::move(root)),
      temp_(std::move(temp)),
      file_(std::move(file)),
      hash_(std::make_unique<Sha256>()) {}

BlobStore::Writer::Writer(Writer&& other) noexcept
    : root_(std::move(other.root_)),
      temp_(std::exchange(other.temp_, fs::path())),
      file_(std::move(other.file_)),
      size_(other.size_),
      hash_(std::move(other.hash_)) {}

BlobStore::Writer::~Writer() { discard(); }

void BlobStore::Writer::discard() {
  if (!temp_.empty()) {
    ::unlink(temp_.c_str());
    temp_.clear();
  }
  file_ = FileLock{};
}

Result<Ok> BlobStore::Writer::write(std::string_view bytes) {
  if (!file_.held()) return failed("blob writer already finished");
  hash_->update(bytes);
  size_ += bytes.size();
  while (!bytes.empty()) {
    const ssize_t n = ::write(file_.fd(), bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string reason = errno_text();
      discard();
      return failed("cannot write blob to " + root_.string() + ": " + reason);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok{};
}

Result<Digest> BlobStore::Writer::commit(const std::optional<Digest>& expected) {
  if (!file_.held()) return failed("blob writer already finished");
  Digest digest = hash_->finish();
  if (expected && *expected != digest) {
    discard();
    return digest_mismatch(*expected);
  }
  // The rename must not become visible before the bytes are durable, or a power cut could leave
  // a complete-looking but empty blob under its digest.
  if (::fdatasync(file_.fd()) != 0) {
    const std::string reason = errno_text();
    discard();
    return failed("cannot sync blob in " + root_.string() + ": " + reason);
  }
  const fs::path final_path = root_ / "sha256" / digest.hex;
  if (::rename(temp_.c_str(), final_path.c_str()) != 0) {
    const std::string reason = errno_text();
    discard();
    return failed("cannot store blob " + digest.str() + " in " + root_.string() + ": " + reason);
  }
  temp_.clear();
  file_ = FileLock{};  // unlock only after the rename, see remove_stale_temps()
  return digest;
}

// ---- leases, fetch locks, eviction ----

Result<std::shared_ptr<const BlobStore::Lease>> BlobStore::lease(const Digest& digest) const {
  auto lock = FileLock::acquire(lock_path(digest, "lease"), FileLock::Mode::Shared);
  if (!lock) return lock.error();
  return std::make_shared<const Lease>(std::move(*lock));
}

Result<FileLock> BlobStore::lock_for_fetch(const Digest& digest,
                                           std::chrono::milliseconds wait) const {
  return FileLock::acquire(lock_path(digest, "fetch"), FileLock::Mode::Exclusive, wait);
}

void BlobStore::touch(const Digest& digest) const {
  ::utimensat(AT_FDCWD, path_of(digest).c_str(), nullptr, 0);
}

namespace {

struct BlobFile {
  std::string hex;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

std::vector<BlobFile> list_blobs(const fs::path& dir) {
  std::vector<BlobFile> blobs;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(".") || !parse_digest(name)) continue;
    struct stat info {};
    if (::stat(it->path().c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    blobs.push_back(
        {name, static_cast<std::uint64_t>(info.st_size),
         static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec});
  }
  return blobs;
}

}  // namespace

BlobStore::Usage BlobStore::usage() const {
  Usage usage;
  for (const BlobFile& blob : list_blobs(root_ / "sha256")) {
    usage.bytes += blob.size;
    ++usage.blobs;
  }
  return usage;
}

BlobStore::Eviction BlobStore::evict(std::uint64_t max_bytes) const {
  Eviction report;
  std::vector<BlobFile> blobs = list_blobs(root_ / "sha256");
  std::uint64_t total = 0;
  for (const BlobFile& blob : blobs) total += blob.size;
  report.remaining_bytes = total;
  if (total <= max_bytes) return report;

  auto guard = FileLock::try_acquire(root_ / "locks" / "evict.lock", FileLock::Mode::Exclusive);
  if (!guard || !guard->held()) return report;  // another process is evicting right now

  std::sort(blobs.begin(), blobs.end(),
            [](const BlobFile& a, const BlobFile& b) { return a.mtime_ns < b.mtime_ns; });
  for (const BlobFile& blob : blobs) {
    if (total <= max_bytes) break;
    const Digest digest{blob.hex};
    auto lease_lock = FileLock::try_acquire(lock_path(digest, "lease"), FileLock::Mode::Exclusive);
    if (!lease_lock || !lease_lock->held()) {
      ++report.skipped_in_use;
      continue;
    }
    std::error_code ec;
    if (!fs::remove(path_of(digest), ec) || ec) continue;
    total -= blob.size;
    report.freed_bytes += blob.size;
    ++report.removed;
    // Lock files are per digest; drop them with the blob so they do not pile up. Unlinking while
    // holding the lock is safe because lockers re-check the path after locking.
    auto fetch_lock = FileLock::try_acquire(lock_path(digest, "fetch"), FileLock::Mode::Exclusive);
    if (fetch_lock && fetch_lock->held()) fs::remove(lock_path(digest, "fetch"), ec);
    fs::remove(lock_path(digest, "lease"), ec);
  }
  report.remaining_bytes = total;
  return report;
}

std::size_t BlobStore::remove_stale_temps(std::chrono::seconds min_age) const {
  std::size_t removed = 0;
  const auto now = fs::file_time_type::clock::now();
  std::error_code ec;
  for (fs::directory_iterator it(root_ / "sha256", ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path path = it->path();
    if (!path.filename().string().starts_with(".tmp-")) continue;
    std::error_code time_ec;
    const auto modified = fs::last_write_time(path, time_ec);
    if (time_ec || now - modified < min_age) continue;
    // A live writer holds an exclusive lock on its file until after the rename.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    FileLock lock = FileLock::adopt(fd);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) continue;
    if (!lock.names(path)) continue;
    if (::unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace wwp::store
