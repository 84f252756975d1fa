#include "oci/module_source.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <unordered_map>

#include "common/atomic_file.hpp"
#include "common/single_flight.hpp"
#include "oci/media_types.hpp"
#include "oci/module_locator.hpp"
#include "oci/reference.hpp"
#include "oci/registry_client.hpp"
#include "oci/signature_check.hpp"
#include "oci/tag_cache.hpp"
#include "telemetry/plugin_metrics.hpp"
#include "telemetry/span.hpp"

namespace wwp::oci {

namespace fs = std::filesystem;
using std::chrono::steady_clock;
using std::chrono::system_clock;

namespace {

// Crashed writers' leftovers are removed once they are this old (live writers are locked, this
// only bounds how long a leftover may linger).
constexpr auto kStaleTempAge = std::chrono::minutes(10);
constexpr auto kCleanupInterval = std::chrono::minutes(10);
// mtime drives LRU eviction; refreshing it on every hot hit would be a syscall per step.
constexpr auto kTouchInterval = std::chrono::seconds(60);

}  // namespace

struct OciModuleSource::Impl {
  explicit Impl(OciSettings s)
      : settings(std::move(s)),
        store(settings.cache_dir / "blobs"),
        tags(settings.cache_dir / "tags"),
        client([&] {
          auto options = client_options(settings);
          if (options) return std::make_unique<RegistryClient>(std::move(*options));
          setup_error = options.error();
          return std::make_unique<RegistryClient>(ClientOptions{});
        }()),
        locator(store, *client, settings.cache_dir / "extracted", settings.max_blob_bytes),
        signatures(settings.signatures, *client, store) {}

  struct Resolution {
    Digest manifest;
    system_clock::time_point at;
  };

  OciSettings settings;
  store::BlobStore store;
  TagCache tags;
  std::optional<Error> setup_error;
  std::unique_ptr<RegistryClient> client;
  ModuleLocator locator;
  SignatureCheck signatures;
  SingleFlight<std::string, Result<modules::FetchedModule>> pulls;

  std::mutex mutex;
  std::unordered_map<std::string, Resolution> tag_memory;  // canonical tag reference
  std::unordered_map<std::string, steady_clock::time_point> touched;
  std::optional<steady_clock::time_point> last_cleanup;
  std::atomic<std::uint64_t> resolves{0};

  // ---- cache upkeep: LRU order, leftovers of crashed writers, the size bound ----

  void touch(const Digest& digest) {
    const auto now = steady_clock::now();
    {
      std::lock_guard lock(mutex);
      auto [it, inserted] = touched.try_emplace(digest.hex, now);
      if (!inserted && now - it->second < kTouchInterval) return;
      it->second = now;
    }
    store.touch(digest);
  }

  void maybe_cleanup() {
    {
      std::lock_guard lock(mutex);
      const auto now = steady_clock::now();
      if (last_cleanup && now - *last_cleanup < kCleanupInterval) return;
      last_cleanup = now;
    }
    const std::size_t removed = store.remove_stale_temps(kStaleTempAge);
    remove_old_temp_files(settings.cache_dir / "tags", kStaleTempAge);
    remove_old_temp_files(settings.cache_dir / "extracted", kStaleTempAge);
    if (removed > 0) spdlog::info("oci cache: removed {} unfinished downloads", removed);
  }

  void maybe_evict() {
    const store::BlobStore::Eviction report = store.evict(settings.max_cache_bytes);
    if (report.removed > 0) {
      spdlog::info("oci cache: evicted {} blobs ({} bytes), {} bytes remain", report.removed,
                   report.freed_bytes, report.remaining_bytes);
    }
  }

  // ---- tags: which manifest a tag means, under the pull policy ----

  bool fresh(const Resolution& resolution) const {
    const auto age = system_clock::now() - resolution.at;
    // A timestamp from the future (clock skew between hosts sharing the cache) is not fresh.
    return age >= system_clock::duration::zero() && age < settings.tag_refresh;
  }

  // The newest resolution known: this process's, or one another process wrote to disk.
  std::optional<Resolution> known_tag(const std::string& key) {
    std::optional<Resolution> in_memory;
    {
      std::lock_guard lock(mutex);
      if (auto it = tag_memory.find(key); it != tag_memory.end()) in_memory = it->second;
    }
    if (in_memory && fresh(*in_memory)) return in_memory;
    if (auto entry = tags.get(key); entry && (!in_memory || entry->resolved_at > in_memory->at)) {
      return Resolution{entry->digest, entry->resolved_at};
    }
    return in_memory;
  }

  void record_tag(const std::string& key, const Digest& manifest) {
    const Resolution resolution{manifest, system_clock::now()};
    {
      std::lock_guard lock(mutex);
      tag_memory[key] = resolution;
    }
    if (auto written = tags.put(key, manifest, resolution.at); !written) {
      spdlog::warn("oci cache: {}", written.error().message);
    }
  }

  // The manifest digest to use; `tag_key` is set when the registry was asked (to record it).
  Result<Digest> manifest_for(const Reference& ref, model::PullPolicy policy, Deadline deadline,
                              std::optional<std::string>& tag_key) {
    if (ref.digest) return *ref.digest;  // immutable: never resolved again
    const std::string key = ref.str();
    const std::optional<Resolution> known = known_tag(key);
    if (policy == model::PullPolicy::IfNotPresent && known && fresh(*known)) {
      std::lock_guard lock(mutex);
      tag_memory[key] = *known;
      return known->manifest;
    }
    auto resolved = client->resolve(ref, deadline);
    ++resolves;
    if (resolved) {
      tag_key = key;
      return *resolved;
    }
    if (policy == model::PullPolicy::IfNotPresent && known && resolved.error().transient()) {
      spdlog::warn("oci: cannot re-resolve {} ({}); using the cached {}", key,
                   resolved.error().message, known->manifest.str());
      return known->manifest;
    }
    return resolved.error();
  }

  Result<modules::FetchedModule> fetch(const Reference& ref, model::PullPolicy policy,
                                       Deadline step_deadline) {
    const Deadline deadline = std::min(step_deadline, deadline_in(settings.time_budget));
    maybe_cleanup();
    const auto& counters = locator.counters();
    const std::uint64_t fetched_before = counters.blob_fetches + counters.extractions;
    const std::uint64_t blobs_before = counters.blob_fetches;
    const std::uint64_t bytes_before = counters.blob_bytes;
    const auto started = std::chrono::steady_clock::now();

    std::optional<std::string> tag_key;
    WWP_TRY_ASSIGN(const Digest manifest, manifest_for(ref, policy, deadline, tag_key));
    // Before any module byte is downloaded: an unverified module is not even cached.
    WWP_TRY(signatures.check(ref, manifest, deadline));
    WWP_TRY_ASSIGN(LeasedModule module, locator.module_for_manifest(ref, manifest, deadline));
    // Only a tag whose module is actually in the cache is recorded.
    if (tag_key) record_tag(*tag_key, manifest);
    touch(module.digest);
    touch(manifest);
    if (counters.blob_fetches + counters.extractions != fetched_before) maybe_evict();
    // Counted per fetch, not per blob: concurrent pulls of one reference share one fetch.
    auto& metrics = telemetry::plugin_metrics();
    const bool pulled = counters.blob_fetches != blobs_before;
    metrics.cache_lookups.with({"registry", pulled ? "miss" : "hit"}).add();
    if (pulled) {
      metrics.pull_bytes.get().add(static_cast<double>(counters.blob_bytes - bytes_before));
      metrics.pull_duration.get().observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    if (auto* span = telemetry::active_span()) {
      span->set("wwp.oci.pulled", pulled);
      span->set("wwp.oci.reference", ref.str());
    }

    Reference resolved = ref;
    resolved.digest = manifest;
    return modules::FetchedModule{module.digest, store.path_of(module.digest),
                                  std::move(module.lease), resolved.str()};
  }

  Result<Inspection> inspect(const Reference& ref) {
    const Deadline deadline = deadline_in(settings.time_budget);
    Inspection out;
    out.reference = ref.str();
    if (ref.digest) {
      out.digest = *ref.digest;
    } else {
      ++resolves;
      WWP_TRY_ASSIGN(out.digest, client->resolve(ref, deadline));
    }
    WWP_TRY_ASSIGN(LoadedManifest top, locator.load_manifest(ref, out.digest, deadline));
    out.media_type = media_type_of(top.manifest);
    out.manifest_size = top.size;
    LoadedManifest chosen;
    if (const auto* index = std::get_if<ImageIndex>(&top.manifest)) {
      out.index = *index;
      WWP_TRY_ASSIGN(out.entry, select_platform(*index));
      if (out.entry->media_type != media::kOciManifest &&
          out.entry->media_type != media::kDockerManifest) {
        return failed("the chosen index entry is not an image manifest (" + out.entry->media_type +
                      ")");
      }
      WWP_TRY_ASSIGN(chosen, locator.load_manifest(ref, out.entry->digest, deadline));
    } else {
      chosen = std::move(top);
    }
    const auto* manifest = std::get_if<ImageManifest>(&chosen.manifest);
    if (!manifest) return failed("image indexes nest too deeply");
    out.manifest = *manifest;
    WWP_TRY_ASSIGN(auto layers, module_layers(*manifest));
    out.layer = layers.front();
    if (out.layer.format == LayerFormat::Wasm) {
      out.module = out.layer.descriptor.digest;
    } else {
      out.module = locator.extracted_module(out.layer.descriptor.digest);
    }
    out.cached = out.module.has_value() && store.contains(*out.module);
    return out;
  }
};

OciModuleSource::OciModuleSource(OciSettings settings)
    : impl_(std::make_unique<Impl>(std::move(settings))) {}

OciModuleSource::~OciModuleSource() = default;

const OciSettings& OciModuleSource::settings() const { return impl_->settings; }

OciModuleSource::Stats OciModuleSource::stats() const {
  const auto& counters = impl_->locator.counters();
  return Stats{impl_->resolves.load(), counters.manifest_fetches.load(),
               counters.blob_fetches.load(), counters.blob_bytes.load()};
}

namespace {

// Errors name the module as the template wrote it; "not found" says only that.
Error about_module(const Error& error, const std::string& reference) {
  if (error.kind == ErrorKind::NotFound) return not_found("module " + reference + " not found");
  return error.context("module " + reference);
}

}  // namespace

Result<modules::FetchedModule> OciModuleSource::fetch(const model::ModuleRef& ref,
                                                      Deadline deadline) {
  return fetch(ref.location, ref.pull_policy.value_or(model::PullPolicy::IfNotPresent), deadline);
}

Result<modules::FetchedModule> OciModuleSource::fetch(const std::string& reference,
                                                      model::PullPolicy policy, Deadline deadline) {
  if (impl_->setup_error) return *impl_->setup_error;
  WWP_TRY_ASSIGN(const Reference ref, parse_reference(reference));
  const std::string key =
      ref.str() + (policy == model::PullPolicy::Always ? " (Always)" : " (IfNotPresent)");
  return impl_->pulls.run(key, [&]() -> Result<modules::FetchedModule> {
    Result<modules::FetchedModule> result = failed("internal error");
    try {
      result = impl_->fetch(ref, policy, deadline);
    } catch (const std::exception& e) {
      result = failed(std::string("internal error: ") + e.what());
    }
    if (!result) return about_module(result.error(), reference);
    return result;
  });
}

Result<Inspection> OciModuleSource::inspect(const std::string& reference) {
  if (impl_->setup_error) return *impl_->setup_error;
  WWP_TRY_ASSIGN(const Reference ref, parse_reference(reference));
  auto result = impl_->inspect(ref);
  if (!result) return about_module(result.error(), reference);
  return result;
}

}  // namespace wwp::oci
