// Compiled modules by content digest: an in-memory LRU (weighted by machine-code size) in front
// of precompiled files on disk (<dir>/<engine fingerprint>/<digest>.cwasm), each sealed to its
// module and engine (precompiled_seal.hpp). Concurrent requests for the same digest share one
// compilation.
//
// Tiered compilation (when the engine has it): a module found neither in memory nor on disk is
// compiled by Winch and runs at once; a background thread compiles it with Cranelift, which then
// replaces the baseline code in memory and is the only code written to disk.
#pragma once

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/digest.hpp"
#include "common/result.hpp"
#include "modules/precompiled_seal.hpp"
#include "sandbox/compiled_module.hpp"
#include "sandbox/engine.hpp"

namespace wwp::modules {

struct CompiledCacheStats {
  std::uint64_t memory_hits = 0;
  std::uint64_t disk_hits = 0;
  std::uint64_t compilations = 0;           // optimised (Cranelift), in the foreground or not
  std::uint64_t baseline_compilations = 0;  // Winch, for a module's first steps
  std::uint64_t optimize_failures = 0;      // Cranelift failed where Winch had not: baseline kept
  std::uint64_t corrupt_entries = 0;        // unreadable, torn, tampered or foreign files (rebuilt)
};

class CompiledCache {
 public:
  // `disk_dir` empty: memory only.
  CompiledCache(const sandbox::Engine& engine, std::filesystem::path disk_dir,
                std::uint64_t memory_budget_bytes);
  // Waits for the optimisation under way (if any); queued ones are dropped.
  ~CompiledCache();
  CompiledCache(const CompiledCache&) = delete;
  CompiledCache& operator=(const CompiledCache&) = delete;

  // Returns the compiled module for `digest`, compiling `wasm_file` if neither memory nor disk
  // has it. Errors name the module as `display_name`.
  Result<sandbox::CompiledModule> get(const Digest& digest, const std::filesystem::path& wasm_file);

  // The module if it is compiled in memory (a hit, as in get()); a Transient error otherwise.
  Result<sandbox::CompiledModule> find_in_memory(const Digest& digest);

  CompiledCacheStats stats() const;
  std::filesystem::path disk_path(const Digest& digest) const;
  // Blocks until no background optimisation is queued or running (tests, benchmarks).
  void wait_for_optimizations();
  // Background optimisations queued or running now.
  std::size_t optimizations_pending() const;

 private:
  Result<sandbox::CompiledModule> load_or_compile(const Digest& digest,
                                                  const std::filesystem::path& wasm_file);
  std::optional<sandbox::CompiledModule> load_from_disk(const Digest& digest);
  void store_on_disk(const Digest& digest, const sandbox::CompiledModule& module);
  void remember(const Digest& digest, const sandbox::CompiledModule& module);
  std::optional<sandbox::CompiledModule> memory_hit_locked(const Digest& digest);
  void forget_locked(const std::string& hex);
  void schedule_optimization(const Digest& digest, std::string wasm);
  void optimize_in_background();

  const sandbox::Engine& engine_;
  std::filesystem::path disk_dir_;  // empty: no disk cache
  std::optional<PrecompiledSeal> seal_;
  std::uint64_t memory_budget_;

  mutable std::mutex mutex_;
  using Lru = std::list<std::pair<std::string, sandbox::CompiledModule>>;
  Lru lru_;  // most recently used first
  std::unordered_map<std::string, Lru::iterator> index_;
  std::uint64_t memory_used_ = 0;
  std::unordered_map<std::string, std::shared_future<Result<sandbox::CompiledModule>>> in_flight_;
  CompiledCacheStats stats_;

  // Background optimisation (tiering): one worker, started with the first baseline compile.
  struct Optimization {
    Digest digest;
    std::string wasm;
  };
  std::deque<Optimization> optimize_queue_;
  std::unordered_set<std::string> optimizing_;  // queued or running
  std::condition_variable optimize_wake_;
  std::condition_variable optimize_idle_;
  bool stopping_ = false;
  std::thread optimizer_;
};

}  // namespace wwp::modules
