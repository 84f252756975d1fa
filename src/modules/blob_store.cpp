#include "modules/blob_store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

namespace wwp::modules {

namespace fs = std::filesystem;

namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string hex_of(const unsigned char* bytes, unsigned int length) {
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[bytes[i] >> 4];
    hex += kHex[bytes[i] & 15];
  }
  return hex;
}

std::string errno_text() { return std::strerror(errno); }

bool same_file(int fd, const fs::path& path) {
  struct stat by_fd {
  }, by_path{};
  if (::fstat(fd, &by_fd) != 0 || ::stat(path.c_str(), &by_path) != 0) return false;
  return by_fd.st_ino == by_path.st_ino && by_fd.st_dev == by_path.st_dev;
}

}  // namespace

std::optional<Digest> parse_digest(std::string_view text) {
  if (text.starts_with("sha256:")) text.remove_prefix(7);
  if (text.size() != 64 || text.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return std::nullopt;
  }
  return Digest{std::string(text)};
}

Digest sha256_of(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  return Digest{hex_of(digest, length)};
}

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;

void Sha256::update(std::string_view bytes) {
  EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size());
}

Digest Sha256::finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(impl_->ctx, digest, &length);
  return Digest{hex_of(digest, length)};
}

// ---- FileLock ----

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
    if (same_file(fd, path)) return lock;
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

fs::path BlobStore::temp_path() const {
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::ostringstream name;
  name << ".tmp-" << ::getpid() << "-" << counter++ << "-" << std::hex << rng();
  return root_ / "sha256" / name.str();
}

Result<Ok> BlobStore::commit(const fs::path& temp_file, const Digest& digest) {
  std::error_code ec;
  fs::rename(temp_file, path_of(digest), ec);
  if (ec) {
    fs::remove(temp_file, ec);
    return failed("cannot store blob " + digest.str() + " in " + root_.string() + ": " +
                  ec.message());
  }
  return Ok{};
}

Result<Digest> BlobStore::put(std::string_view bytes, const std::optional<Digest>& expected) {
  Digest digest = sha256_of(bytes);
  if (expected && *expected != digest) {
    return failed("digest mismatch: expected " + expected->str() + ", got " + digest.str());
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
  fs::path temp = temp_path();
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
    return failed("digest mismatch: expected " + expected->str() + ", got " + digest.str());
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
    if (!same_file(fd, path)) continue;
    if (::unlink(path.c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace wwp::modules
