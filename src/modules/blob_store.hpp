// Content-addressed module bytes on disk: <root>/sha256/<hex>. Writes go to a temporary file in
// the same directory and are renamed into place, so readers never see a torn blob and several
// plugin processes can share the directory.
//
// Sharing between processes relies on flock(2) lock files under <root>/locks: a lease (shared
// lock) keeps a blob from being evicted, a fetch lock (exclusive) lets one process download a
// digest while the others wait, and a temporary file is locked by its writer so that the cleanup
// of crashed writers never deletes a file that is still being written.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/result.hpp"

namespace wwp::modules {

struct Digest {
  std::string hex;  // 64 lowercase hex digits of SHA-256

  std::string str() const { return "sha256:" + hex; }
  bool operator==(const Digest&) const = default;
};

// Parses "sha256:<hex>" or a bare hex digest.
std::optional<Digest> parse_digest(std::string_view text);
Digest sha256_of(std::string_view bytes);

// Incremental SHA-256, for bytes that arrive in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  Digest finish();  // the hasher is spent afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

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

  // Takes ownership of an open descriptor that already holds an flock.
  static FileLock adopt(int fd) { return FileLock(fd); }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

class BlobStore {
 public:
  explicit BlobStore(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path path_of(const Digest& digest) const;
  bool contains(const Digest& digest) const;

  // Stores `bytes` under their digest; if `expected` is given and differs, nothing is stored.
  Result<Digest> put(std::string_view bytes, const std::optional<Digest>& expected = std::nullopt);
  // Moves a fully written and verified temporary file (created by temp_path()) into place.
  Result<Ok> commit(const std::filesystem::path& temp_file, const Digest& digest);
  // A fresh temporary file name inside the store (same filesystem, so rename is atomic).
  std::filesystem::path temp_path() const;

  Result<std::string> read(const Digest& digest) const;

  // Streams bytes into a locked temporary file while hashing them; commit() verifies and renames.
  // A writer that is destroyed without a successful commit removes its file.
  class Writer {
   public:
    Writer(Writer&&) noexcept;
    Writer& operator=(Writer&&) = delete;
    Writer(const Writer&) = delete;
    ~Writer();

    Result<Ok> write(std::string_view bytes);
    std::uint64_t size() const { return size_; }
    // Checks the digest (and nothing is stored if it differs), syncs, and renames into place.
    Result<Digest> commit(const std::optional<Digest>& expected = std::nullopt);

   private:
    friend class BlobStore;
    Writer(std::filesystem::path root, std::filesystem::path temp, FileLock file);
    void discard();

    std::filesystem::path root_;
    std::filesystem::path temp_;
    FileLock file_;  // the open temporary file, locked so cleanup knows it is alive
    std::uint64_t size_ = 0;
    std::unique_ptr<Sha256> hash_;
  };
  Result<Writer> writer() const;

  // While a Lease lives, evict() in any process leaves the digest alone. Take the lease before
  // checking contains(): a blob that is present while leased stays present.
  class Lease {
   public:
    explicit Lease(FileLock lock) : lock_(std::move(lock)) {}

   private:
    FileLock lock_;
  };
  Result<std::shared_ptr<const Lease>> lease(const Digest& digest) const;

  // Serialises fetching one digest across threads and processes, so that concurrent pulls of the
  // same blob download it once. After `wait` the caller proceeds without the lock (renames stay
  // atomic, so the worst case is a duplicate download).
  Result<FileLock> lock_for_fetch(const Digest& digest, std::chrono::milliseconds wait) const;

  // Marks a blob as recently used for eviction's LRU order (its mtime).
  void touch(const Digest& digest) const;

  struct Usage {
    std::uint64_t bytes = 0;
    std::size_t blobs = 0;
  };
  Usage usage() const;

  struct Eviction {
    std::size_t removed = 0;
    std::uint64_t freed_bytes = 0;
    std::uint64_t remaining_bytes = 0;
    std::size_t skipped_in_use = 0;
  };
  // Removes least recently used blobs until the store holds at most `max_bytes`; leased blobs
  // are skipped. Only one process evicts at a time (others return at once).
  Eviction evict(std::uint64_t max_bytes) const;

  // Deletes temporary files left by writers that died (older than `min_age` and not locked).
  std::size_t remove_stale_temps(std::chrono::seconds min_age) const;

 private:
  std::filesystem::path lock_path(const Digest& digest, std::string_view kind) const;

  std::filesystem::path root_;
};

}  // namespace wwp::modules
