#include "modules/compiled_cache.hpp"

#include <spdlog/spdlog.h>

#include "common/atomic_file.hpp"
#include "common/file_bytes.hpp"
#include "telemetry/plugin_metrics.hpp"
#include "telemetry/span.hpp"

namespace wwp::modules {

namespace fs = std::filesystem;

namespace {

constexpr auto kStaleTempAge = std::chrono::minutes(10);

}  // namespace

CompiledCache::CompiledCache(const sandbox::Engine& engine, fs::path disk_dir,
                             std::uint64_t memory_budget_bytes)
    : engine_(engine), disk_dir_(std::move(disk_dir)), memory_budget_(memory_budget_bytes) {
  if (disk_dir_.empty()) return;
  auto seal = PrecompiledSeal::open(disk_dir_);
  if (!seal) {
    // The cache only saves compile time; without a trustworthy key it is off, never unchecked.
    spdlog::warn("precompiled-module cache disabled: {}", seal.error().message);
    disk_dir_.clear();
    return;
  }
  seal_ = std::move(*seal);
  disk_dir_ /= engine_.fingerprint();
  // A process killed while writing a precompiled file leaves its temporary file (the finished
  // file is renamed over, so readers never see it). Live writers finish within seconds; a
  // leftover this old is garbage.
  if (const std::size_t removed = remove_old_temp_files(disk_dir_, kStaleTempAge); removed > 0) {
    spdlog::info("precompiled-module cache: removed {} unfinished files", removed);
  }
}

CompiledCache::~CompiledCache() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  optimize_wake_.notify_all();
  if (optimizer_.joinable()) optimizer_.join();
}

fs::path CompiledCache::disk_path(const Digest& digest) const {
  return disk_dir_ / (digest.hex + ".cwasm");
}

CompiledCacheStats CompiledCache::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

namespace {

void observe_compile(const char* tier, std::chrono::steady_clock::time_point started) {
  telemetry::plugin_metrics().compile_duration.with({tier}).observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (auto* span = telemetry::active_span()) span->set("wwp.compile.tier", std::string(tier));
}

}  // namespace

Result<sandbox::CompiledModule> CompiledCache::find_in_memory(const Digest& digest) {
  std::lock_guard lock(mutex_);
  if (auto hit = memory_hit_locked(digest)) return *hit;
  return transient("module " + digest.str() + " is not compiled in memory");
}

std::optional<sandbox::CompiledModule> CompiledCache::memory_hit_locked(const Digest& digest) {
  auto it = index_.find(digest.hex);
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  ++stats_.memory_hits;
  telemetry::plugin_metrics().cache_lookups.with({"memory", "hit"}).add();
  if (auto* span = telemetry::active_span()) span->set("wwp.compile.cache", "memory");
  return it->second->second;
}

Result<sandbox::CompiledModule> CompiledCache::get(const Digest& digest,
                                                   const fs::path& wasm_file) {
  std::shared_future<Result<sandbox::CompiledModule>> pending;
  std::promise<Result<sandbox::CompiledModule>> promise;
  {
    std::lock_guard lock(mutex_);
    if (auto hit = memory_hit_locked(digest)) return *hit;
    if (auto it = in_flight_.find(digest.hex); it != in_flight_.end()) {
      pending = it->second;
    } else {
      in_flight_.emplace(digest.hex, promise.get_future().share());
    }
  }
  telemetry::plugin_metrics().cache_lookups.with({"memory", "miss"}).add();
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

void CompiledCache::forget_locked(const std::string& hex) {
  auto it = index_.find(hex);
  if (it == index_.end()) return;
  memory_used_ -= it->second->second.code_size() + 1;
  lru_.erase(it->second);
  index_.erase(it);
}

void CompiledCache::remember(const Digest& digest, const sandbox::CompiledModule& module) {
  if (module.baseline()) {
    // The optimiser may have finished first (small modules): never downgrade its entry.
    if (auto it = index_.find(digest.hex); it != index_.end() && !it->second->second.baseline())
      return;
  }
  forget_locked(digest.hex);  // a baseline entry gives way to optimised code
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
      telemetry::plugin_metrics().cache_lookups.with({"disk", "hit"}).add();
      if (auto* span = telemetry::active_span()) span->set("wwp.compile.cache", "disk");
      std::lock_guard lock(mutex_);
      ++stats_.disk_hits;
      return *loaded;
    }
    telemetry::plugin_metrics().cache_lookups.with({"disk", "miss"}).add();
  }
  if (auto* span = telemetry::active_span()) span->set("wwp.compile.cache", "none");
  auto bytes = read_file(wasm_file);
  if (!bytes) return bytes.error();
  if (engine_.tiered()) {
    const auto started = std::chrono::steady_clock::now();
    auto quick = engine_.compile_baseline(
        std::span(reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()));
    if (quick) observe_compile("baseline", started);
    // Winch lacks a few proposals; such a module simply waits for Cranelift below.
    if (quick) {
      {
        std::lock_guard lock(mutex_);
        ++stats_.baseline_compilations;
      }
      schedule_optimization(digest, std::move(*bytes));
      return quick;
    }
  }
  const auto started = std::chrono::steady_clock::now();
  auto compiled = engine_.compile(
      std::span(reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()));
  if (!compiled) return compiled.error();
  observe_compile("optimized", started);
  {
    std::lock_guard lock(mutex_);
    ++stats_.compilations;
  }
  if (!disk_dir_.empty()) store_on_disk(digest, *compiled);
  return compiled;
}

void CompiledCache::schedule_optimization(const Digest& digest, std::string wasm) {
  std::lock_guard lock(mutex_);
  if (stopping_ || !optimizing_.insert(digest.hex).second) return;
  optimize_queue_.push_back({digest, std::move(wasm)});
  if (!optimizer_.joinable()) optimizer_ = std::thread([this] { optimize_in_background(); });
  optimize_wake_.notify_one();
}

void CompiledCache::optimize_in_background() {
  std::unique_lock lock(mutex_);
  while (true) {
    optimize_wake_.wait(lock, [this] { return stopping_ || !optimize_queue_.empty(); });
    if (stopping_) break;
    Optimization job = std::move(optimize_queue_.front());
    optimize_queue_.pop_front();
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    auto compiled = engine_.compile(
        std::span(reinterpret_cast<const std::uint8_t*>(job.wasm.data()), job.wasm.size()));
    if (compiled) observe_compile("optimized", started);
    if (compiled && !disk_dir_.empty()) store_on_disk(job.digest, *compiled);
    lock.lock();
    if (compiled) {
      ++stats_.compilations;
      remember(job.digest, *compiled);
    } else {
      ++stats_.optimize_failures;
    }
    optimizing_.erase(job.digest.hex);
    if (optimizing_.empty()) optimize_idle_.notify_all();
  }
  optimizing_.clear();
  optimize_idle_.notify_all();
}

void CompiledCache::wait_for_optimizations() {
  std::unique_lock lock(mutex_);
  optimize_idle_.wait(lock, [this] { return optimizing_.empty(); });
}

std::size_t CompiledCache::optimizations_pending() const {
  std::lock_guard lock(mutex_);
  return optimizing_.size();
}

std::optional<sandbox::CompiledModule> CompiledCache::load_from_disk(const Digest& digest) {
  const fs::path path = disk_path(digest);
  std::error_code exists_ec;
  if (!fs::exists(path, exists_ec)) return std::nullopt;
  auto corrupt = [&] {
    std::error_code ec;
    fs::remove(path, ec);  // rebuilt below; another process may already have replaced it
    std::lock_guard lock(mutex_);
    ++stats_.corrupt_entries;
    return std::nullopt;
  };
  // A file someone else could have written is not even read.
  if (!owned_by_us(path)) return corrupt();
  auto bytes = read_file(path);
  if (!bytes) return corrupt();
  auto payload = seal_->open_file(
      digest.hex, engine_.fingerprint(),
      std::span(reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()));
  if (!payload) return corrupt();
  auto module = engine_.deserialize(*payload);
  if (!module) return corrupt();
  return *module;
}

void CompiledCache::store_on_disk(const Digest& digest, const sandbox::CompiledModule& module) {
  auto payload = engine_.serialize(module);
  if (!payload) return;  // the cache is an optimisation: a failed write costs a recompile later
  std::string file = seal_->header(digest.hex, engine_.fingerprint(), *payload);
  file.append(reinterpret_cast<const char*>(payload->data()), payload->size());
  // Readers in this or another process see no file or the whole sealed one, never a torn one.
  (void)write_file_atomically(disk_path(digest), file);
}

}  // namespace wwp::modules
