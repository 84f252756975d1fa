#include "modules/compiled_cache.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstring>
#include <fstream>

#include "common/file_bytes.hpp"

namespace wwp::modules {

namespace fs = std::filesystem;

namespace {

// A precompiled file is trusted only whole: header, then an XXH3 checksum of the payload that
// catches torn or corrupted files before Wasmtime maps their machine code.
constexpr char kMagic[8] = {'W', 'W', 'P', 'C', 'W', 'S', 'M', '1'};
constexpr std::size_t kHeaderSize = sizeof kMagic + sizeof(std::uint64_t);

}  // namespace

CompiledCache::CompiledCache(const sandbox::Engine& engine, fs::path disk_dir,
                             std::uint64_t memory_budget_bytes)
    : engine_(engine), disk_dir_(std::move(disk_dir)), memory_budget_(memory_budget_bytes) {
  if (!disk_dir_.empty()) disk_dir_ /= engine_.fingerprint();
}

fs::path CompiledCache::disk_path(const Digest& digest) const {
  return disk_dir_ / (digest.hex + ".cwasm");
}

CompiledCacheStats CompiledCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

Result<sandbox::CompiledModule> CompiledCache::get(const Digest& digest,
                                                   const fs::path& wasm_file) {
  std::shared_future<Result<sandbox::CompiledModule>> pending;
  std::promise<Result<sandbox::CompiledModule>> promise;
  {
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(digest.hex); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      ++stats_.memory_hits;
      return it->second->second;
    }
    if (auto it = in_flight_.find(digest.hex); it != in_flight_.end()) {
      pending = it->second;
    } else {
      in_flight_.emplace(digest.hex, promise.get_future().share());
    }
  }
  if (pending.valid()) return pending.get();

  Result<sandbox::CompiledModule> result = load_or_compile(digest, wasm_file);
  {
    std::lock_guard lock(mutex_);
    if (result) remember(digest, *result);
    in_flight_.erase(digest.hex);
  }
  promise.set_value(result);
  return result;
}

void CompiledCache::remember(const Digest& digest, const sandbox::CompiledModule& module) {
  const std::uint64_t weight = module.code_size() + 1;
  lru_.emplace_front(digest.hex, module);
  index_[digest.hex] = lru_.begin();
  memory_used_ += weight;
  // Evicted modules stay alive while executions hold them (shared ownership).
  while (memory_used_ > memory_budget_ && lru_.size() > 1) {
    auto& [hex, victim] = lru_.back();
    memory_used_ -= victim.code_size() + 1;
    index_.erase(hex);
    lru_.pop_back();
  }
}

Result<sandbox::CompiledModule> CompiledCache::load_or_compile(const Digest& digest,
                                                               const fs::path& wasm_file) {
  if (!disk_dir_.empty()) {
    if (auto loaded = load_from_disk(digest)) {
      std::lock_guard lock(mutex_);
      ++stats_.disk_hits;
      return *loaded;
    }
  }
  auto bytes = read_file(wasm_file);
  if (!bytes) return bytes.error();
  auto compiled = engine_.compile(
      std::span(reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()));
  if (!compiled) return compiled.error();
  {
    std::lock_guard lock(mutex_);
    ++stats_.compilations;
  }
  if (!disk_dir_.empty()) store_on_disk(digest, *compiled);
  return compiled;
}

std::optional<sandbox::CompiledModule> CompiledCache::load_from_disk(const Digest& digest) {
  const fs::path path = disk_path(digest);
  auto bytes = read_file(path);
  if (!bytes) return std::nullopt;
  auto corrupt = [&] {
    std::error_code ec;
    fs::remove(path, ec);  // rebuilt below; another process may already have replaced it
    std::lock_guard lock(mutex_);
    ++stats_.corrupt_entries;
    return std::nullopt;
  };
  if (bytes->size() < kHeaderSize || std::memcmp(bytes->data(), kMagic, sizeof kMagic) != 0)
    return corrupt();
  std::uint64_t checksum = 0;
  std::memcpy(&checksum, bytes->data() + sizeof kMagic, sizeof checksum);
  const char* payload = bytes->data() + kHeaderSize;
  const std::size_t payload_size = bytes->size() - kHeaderSize;
  if (XXH3_64bits(payload, payload_size) != checksum) return corrupt();
  auto module =
      engine_.deserialize(std::span(reinterpret_cast<const std::uint8_t*>(payload), payload_size));
  if (!module) return corrupt();
  return *module;
}

void CompiledCache::store_on_disk(const Digest& digest, const sandbox::CompiledModule& module) {
  auto payload = engine_.serialize(module);
  if (!payload) return;  // the cache is an optimisation: a failed write costs a recompile later
  std::error_code ec;
  fs::create_directories(disk_dir_, ec);
  if (ec) return;
  const fs::path final_path = disk_path(digest);
  fs::path temp = final_path;
  temp += ".tmp-" + std::to_string(::getpid()) + "-" +
          std::to_string(reinterpret_cast<std::uintptr_t>(&payload));
  const std::uint64_t checksum = XXH3_64bits(payload->data(), payload->size());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(kMagic, sizeof kMagic);
    out.write(reinterpret_cast<const char*>(&checksum), sizeof checksum);
    out.write(reinterpret_cast<const char*>(payload->data()),
              static_cast<std::streamsize>(payload->size()));
    out.flush();
    if (!out) {
      fs::remove(temp, ec);
      return;
    }
  }
  // rename() is atomic: readers in this or another process see the old file or the whole new one.
  fs::rename(temp, final_path, ec);
  if (ec) fs::remove(temp, ec);
}

}  // namespace wwp::modules
