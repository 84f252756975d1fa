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

#include "common/digest.hpp"
#include "common/result.hpp"
#include "store/file_lock.hpp"

namespace wwp::store {

// "digest mismatch: the bytes are not <expected>". The digest that was computed is left out on
// purpose: echoing it would reveal the hash of whatever a template's URL points at.
Error digest_mismatch(const Digest& expected);

class BlobStore {
 public:
  explicit BlobStore(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path path_of(const Digest& digest) const;
  bool contains(const Digest& digest) const;

  // Stores `bytes` under their digest; if `expected` is given and differs, nothing is stored.
  Result<Digest> put(std::string_view bytes, const std::optional<Digest>& expected = std::nullopt);
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

}  // namespace wwp::store
