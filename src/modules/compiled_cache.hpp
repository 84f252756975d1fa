// Compiled modules by content digest: an in-memory LRU (weighted by machine-code size) in front
// of precompiled files on disk (<dir>/<engine fingerprint>/<digest>.cwasm). Concurrent requests
// for the same digest share one compilation.
#pragma once

#include <filesystem>
#include <functional>
#include <future>
#include <list>
#include <mutex>
#include <unordered_map>

#include "common/digest.hpp"
#include "common/result.hpp"
#include "sandbox/compiled_module.hpp"
#include "sandbox/engine.hpp"

namespace wwp::modules {

struct CompiledCacheStats {
  std::uint64_t memory_hits = 0;
  std::uint64_t disk_hits = 0;
  std::uint64_t compilations = 0;
  std::uint64_t corrupt_entries = 0;
};

class CompiledCache {
 public:
  // `disk_dir` empty: memory only.
  CompiledCache(const sandbox::Engine& engine, std::filesystem::path disk_dir,
                std::uint64_t memory_budget_bytes);

  // Returns the compiled module for `digest`, compiling `wasm_file` if neither memory nor disk
  // has it. Errors name the module as `display_name`.
  Result<sandbox::CompiledModule> get(const Digest& digest, const std::filesystem::path& wasm_file);

  CompiledCacheStats stats() const;
  std::filesystem::path disk_path(const Digest& digest) const;

 private:
  Result<sandbox::CompiledModule> load_or_compile(const Digest& digest,
                                                  const std::filesystem::path& wasm_file);
  std::optional<sandbox::CompiledModule> load_from_disk(const Digest& digest);
  void store_on_disk(const Digest& digest, const sandbox::CompiledModule& module);
  void remember(const Digest& digest, const sandbox::CompiledModule& module);

  const sandbox::Engine& engine_;
  std::filesystem::path disk_dir_;
  std::uint64_t memory_budget_;

  mutable std::mutex mutex_;
  using Lru = std::list<std::pair<std::string, sandbox::CompiledModule>>;
  Lru lru_;  // most recently used first
  std::unordered_map<std::string, Lru::iterator> index_;
  std::uint64_t memory_used_ = 0;
  std::unordered_map<std::string, std::shared_future<Result<sandbox::CompiledModule>>> in_flight_;
  CompiledCacheStats stats_;
};

}  // namespace wwp::modules
