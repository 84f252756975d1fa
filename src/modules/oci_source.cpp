#include "modules/oci_source.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <sstream>
#include <unordered_map>

#include "oci/docker_config.hpp"
#include "oci/layer_extract.hpp"
#include "oci/manifest.hpp"
#include "oci/media_types.hpp"
#include "oci/reference.hpp"
#include "oci/registry_client.hpp"
#include "oci/tag_cache.hpp"

namespace wwp::modules {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using std::chrono::steady_clock;
using std::chrono::system_clock;

namespace {

// Crashed writers' leftovers are removed once they are this old (live writers are locked, this
// only bounds how long a leftover may linger).
constexpr auto kStaleTempAge = std::chrono::minutes(10);
constexpr auto kCleanupInterval = std::chrono::minutes(10);
// mtime drives LRU eviction; refreshing it on every hot hit would be a syscall per step.
constexpr auto kTouchInterval = std::chrono::seconds(60);
// How long to wait for another thread or process that is downloading the same blob.
constexpr auto kFetchLockWait = std::chrono::minutes(5);

std::optional<std::string> read_small_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  std::getline(in, text);
  return text;
}

Result<Ok> write_file_atomically(const fs::path& path, std::string_view content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::ostringstream name;
  name << ".tmp-" << ::getpid() << "-" << counter++ << "-" << std::hex << rng();
  const fs::path temp = path.parent_path() / name.str();
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      fs::remove(temp, ec);
      return failed("cannot write " + path.string());
    }
  }
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ec);
    return failed("cannot write " + path.string() + ": " + ec.message());
  }
  return Ok{};
}

void remove_old_temps(const fs::path& dir, std::chrono::minutes age) {
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->path().filename().string().starts_with(".tmp-")) continue;
    std::error_code time_ec;
    const auto modified = fs::last_write_time(it->path(), time_ec);
    if (!time_ec && now - modified > age) fs::remove(it->path(), time_ec);
  }
}

Result<Ok> check_wasm_header(const fs::path& file, const Digest& digest) {
  std::ifstream in(file, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() != 4 || std::string_view(magic, 4) != std::string_view("\0asm", 4)) {
    return failed("blob " + digest.str() + " is not a WebAssembly module (no \\0asm header)");
  }
  return Ok{};
}

struct LeasedModule {
  Digest digest;
  std::shared_ptr<const BlobStore::Lease> lease;
};

struct LoadedManifest {
  oci::Manifest manifest;
  std::uint64_t size = 0;
};

}  // namespace

Result<oci::ClientOptions> oci_client_options(const OciSettings& settings) {
  oci::ClientOptions options;
  options.insecure_registries = settings.insecure_registries;
  options.ca_file = settings.ca_file;
  options.max_blob_bytes = settings.max_blob_bytes;
  if (settings.docker_config) {
    auto store = oci::CredentialStore::from_docker_config_file(*settings.docker_config);
    if (!store) return store.error();
    options.credentials = std::move(*store);
  }
  if (settings.username || settings.password) {
    options.credentials.set_default(
        oci::Credentials{settings.username.value_or(""), settings.password.value_or(""), ""},
        settings.credential_hosts);
  }
  return options;
}

struct OciModuleSource::Impl {
  explicit Impl(OciSettings s)
      : settings(std::move(s)),
        store(settings.cache_dir / "blobs"),
        tags(settings.cache_dir / "tags"),
        extracted_dir(settings.cache_dir / "extracted") {
    auto options = oci_client_options(settings);
    if (!options) {
      setup_error = options.error();
      options = oci::ClientOptions{};
    }
    client = std::make_unique<oci::RegistryClient>(std::move(*options));
  }

  struct Resolution {
    Digest manifest;
    system_clock::time_point at;
  };

  OciSettings settings;
  BlobStore store;
  oci::TagCache tags;
  fs::path extracted_dir;
  std::optional<Error> setup_error;
  std::unique_ptr<oci::RegistryClient> client;

  std::mutex mutex;
  std::unordered_map<std::string, std::shared_future<Result<FetchedModule>>> inflight;
  std::unordered_map<std::string, Resolution> tag_memory;      // canonical tag reference
  std::unordered_map<std::string, Digest> module_of_manifest;  // manifest hex -> module digest
  std::unordered_map<std::string, steady_clock::time_point> touched;
  // One lease (one lock file descriptor) per digest in this process, however many users.
  std::unordered_map<std::string, std::weak_ptr<const BlobStore::Lease>> leases;
  std::optional<steady_clock::time_point> last_cleanup;

  std::atomic<std::uint64_t> resolves{0};
  std::atomic<std::uint64_t> manifest_fetches{0};
  std::atomic<std::uint64_t> blob_fetches{0};
  std::atomic<std::uint64_t> blob_bytes{0};
  std::atomic<std::uint64_t> extractions{0};

  Result<std::shared_ptr<const BlobStore::Lease>> shared_lease(const Digest& digest) {
    {
      std::lock_guard lock(mutex);
      if (auto it = leases.find(digest.hex); it != leases.end()) {
        if (auto held = it->second.lock()) return held;
      }
    }
    auto fresh = store.lease(digest);  // may wait for an evictor; not under the mutex
    if (!fresh) return fresh.error();
    std::lock_guard lock(mutex);
    if (leases.size() > 4096)
      std::erase_if(leases, [](const auto& entry) { return entry.second.expired(); });
    auto& slot = leases[digest.hex];
    if (auto held = slot.lock()) return held;
    slot = *fresh;
    return *fresh;
  }

  void remember(const Digest& manifest, const Digest& module) {
    std::lock_guard lock(mutex);
    module_of_manifest[manifest.hex] = module;
  }

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
    remove_old_temps(settings.cache_dir / "tags", kStaleTempAge);
    remove_old_temps(extracted_dir, kStaleTempAge);
    if (removed > 0) spdlog::info("oci cache: removed {} unfinished downloads", removed);
  }

  void maybe_evict() {
    const BlobStore::Eviction report = store.evict(settings.max_cache_bytes);
    if (report.removed > 0) {
      spdlog::info("oci cache: evicted {} blobs ({} bytes), {} bytes remain", report.removed,
                   report.freed_bytes, report.remaining_bytes);
    }
  }

  Result<LoadedManifest> load_manifest(const oci::Reference& ref, const Digest& digest,
                                       const oci::Deadline& deadline) {
    if (store.contains(digest)) {
      if (auto bytes = store.read(digest)) {
        if (auto parsed = oci::parse_manifest(*bytes))
          return LoadedManifest{std::move(*parsed), bytes->size()};
      }
      // Unreadable or evicted meanwhile: the registry's copy is the same bytes.
    }
    auto fetched = client->get_manifest(ref, digest.str(), deadline);
    if (!fetched) return fetched.error();
    ++manifest_fetches;
    if (auto stored = store.put(fetched->bytes, digest); !stored) {
      spdlog::warn("oci cache: {}", stored.error().message);
    }
    return LoadedManifest{std::move(fetched->manifest), fetched->bytes.size()};
  }

  Result<Ok> ensure_blob(const oci::Reference& ref, const oci::Descriptor& blob,
                         const oci::Deadline& deadline) {
    if (store.contains(blob.digest)) return Ok{};
    auto lock = store.lock_for_fetch(blob.digest, kFetchLockWait);
    if (!lock) return lock.error();
    if (store.contains(blob.digest)) return Ok{};  // fetched by someone else while we waited
    WWP_TRY(client->fetch_blob(ref, blob, store, deadline));
    ++blob_fetches;
    blob_bytes += blob.size;
    return Ok{};
  }

  // The .wasm file inside an image layer; nullopt when the layer has none.
  Result<std::optional<LeasedModule>> module_from_image_layer(const oci::Reference& ref,
                                                              const oci::ModuleLayer& layer,
                                                              const oci::Deadline& deadline) {
    const Digest& layer_digest = layer.descriptor.digest;
    const fs::path mapping = extracted_dir / layer_digest.hex;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (auto known = read_small_file(mapping)) {
        if (*known == "none") return std::optional<LeasedModule>();
        if (auto digest = parse_digest(*known)) {
          auto lease = shared_lease(*digest);
          if (!lease) return lease.error();
          if (store.contains(*digest))
            return std::optional<LeasedModule>(LeasedModule{*digest, *lease});
        }
      }
      auto layer_lease = shared_lease(layer_digest);
      if (!layer_lease) return layer_lease.error();
      WWP_TRY(ensure_blob(ref, layer.descriptor, deadline));
      auto extracted = oci::extract_wasm(store.path_of(layer_digest), layer.format, store,
                                         settings.max_blob_bytes);
      if (!extracted) return extracted.error().context("layer " + layer_digest.str());
      ++extractions;
      if (auto written =
              write_file_atomically(mapping, *extracted ? (*extracted)->digest.hex : "none");
          !written) {
        spdlog::warn("oci cache: {}", written.error().message);
      }
      if (!*extracted) return std::optional<LeasedModule>();
      spdlog::debug("oci: {} holds {} ({} bytes)", layer_digest.str(), (*extracted)->path_in_layer,
                    (*extracted)->size);
      auto lease = shared_lease((*extracted)->digest);
      if (!lease) return lease.error();
      // Evicted between extraction and lease only in a cache far too small; try once more.
      if (store.contains((*extracted)->digest)) {
        return std::optional<LeasedModule>(LeasedModule{(*extracted)->digest, *lease});
      }
    }
    return transient("the module cache evicted the module while it was being extracted");
  }

  Result<LeasedModule> module_for_manifest(const oci::Reference& ref, const Digest& manifest_digest,
                                           const oci::Deadline& deadline, int depth) {
    std::optional<Digest> known;
    {
      std::lock_guard lock(mutex);
      if (auto it = module_of_manifest.find(manifest_digest.hex); it != module_of_manifest.end()) {
        known = it->second;
      }
    }
    if (known) {
      auto lease = shared_lease(*known);
      if (!lease) return lease.error();
      if (store.contains(*known)) return LeasedModule{*known, *lease};
    }

    auto loaded = load_manifest(ref, manifest_digest, deadline);
    if (!loaded) return loaded.error();
    if (const auto* index = std::get_if<oci::ImageIndex>(&loaded->manifest)) {
      if (depth >= 2) return failed("image indexes nest too deeply");
      auto entry = oci::select_platform(*index);
      if (!entry) return entry.error();
      if (!oci::is_manifest_media_type(entry->media_type)) {
        return failed("the index entry for " +
                      (entry->platform ? entry->platform->str() : std::string("the module")) +
                      " has media type " + entry->media_type + ", not a manifest");
      }
      auto module = module_for_manifest(ref, entry->digest, deadline, depth + 1);
      if (module) remember(manifest_digest, module->digest);
      return module;
    }

    const auto& manifest = std::get<oci::ImageManifest>(loaded->manifest);
    auto layers = oci::module_layers(manifest);
    if (!layers) return layers.error();
    for (const oci::ModuleLayer& layer : *layers) {
      if (layer.format == oci::LayerFormat::Wasm) {
        auto lease = shared_lease(layer.descriptor.digest);
        if (!lease) return lease.error();
        WWP_TRY(ensure_blob(ref, layer.descriptor, deadline));
        WWP_TRY(check_wasm_header(store.path_of(layer.descriptor.digest), layer.descriptor.digest));
        remember(manifest_digest, layer.descriptor.digest);
        return LeasedModule{layer.descriptor.digest, *lease};
      }
      auto module = module_from_image_layer(ref, layer, deadline);
      if (!module) return module.error();
      if (*module) {
        WWP_TRY(check_wasm_header(store.path_of((*module)->digest), (*module)->digest));
        remember(manifest_digest, (*module)->digest);
        return std::move(**module);
      }
    }
    return failed("none of the image's " + std::to_string(layers->size()) +
                  " layers holds a .wasm file");
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

  bool fresh(const Resolution& resolution) const {
    const auto age = system_clock::now() - resolution.at;
    // A timestamp from the future (clock skew between hosts sharing the cache) is not fresh.
    return age >= system_clock::duration::zero() && age < settings.tag_refresh;
  }

  Result<FetchedModule> fetch(const oci::Reference& ref, model::PullPolicy policy) {
    const oci::Deadline deadline = oci::Deadline::in(settings.time_budget);
    maybe_cleanup();
    const std::uint64_t fetched_before = blob_fetches + extractions;

    Digest manifest_digest;
    std::optional<std::string> tag_key;
    if (ref.digest) {
      manifest_digest = *ref.digest;  // immutable: never resolved again
    } else {
      const std::string key = ref.str();
      const std::optional<Resolution> known = known_tag(key);
      if (policy == model::PullPolicy::IfNotPresent && known && fresh(*known)) {
        manifest_digest = known->manifest;
        std::lock_guard lock(mutex);
        tag_memory[key] = *known;
      } else {
        auto resolved = client->resolve(ref, deadline);
        ++resolves;
        if (resolved) {
          manifest_digest = *resolved;
          tag_key = key;
        } else if (policy == model::PullPolicy::IfNotPresent && known &&
                   resolved.error().transient()) {
          spdlog::warn("oci: cannot re-resolve {} ({}); using the cached {}", key,
                       resolved.error().message, known->manifest.str());
          manifest_digest = known->manifest;
        } else {
          return resolved.error();
        }
      }
    }

    auto module = module_for_manifest(ref, manifest_digest, deadline, 0);
    if (!module) return module.error();

    // Only a tag whose module is actually in the cache is recorded.
    if (tag_key) {
      const Resolution resolution{manifest_digest, system_clock::now()};
      {
        std::lock_guard lock(mutex);
        tag_memory[*tag_key] = resolution;
      }
      if (auto written = tags.put(*tag_key, manifest_digest, resolution.at); !written) {
        spdlog::warn("oci cache: {}", written.error().message);
      }
    }
    touch(module->digest);
    touch(manifest_digest);
    if (blob_fetches + extractions != fetched_before) maybe_evict();

    oci::Reference resolved = ref;
    resolved.digest = manifest_digest;
    return FetchedModule{module->digest, store.path_of(module->digest), std::move(module->lease),
                         resolved.str()};
  }

  Result<Json> inspect(const oci::Reference& ref) {
    const oci::Deadline deadline = oci::Deadline::in(settings.time_budget);
    Digest top_digest;
    if (ref.digest) {
      top_digest = *ref.digest;
    } else {
      auto resolved = client->resolve(ref, deadline);
      ++resolves;
      if (!resolved) return resolved.error();
      top_digest = *resolved;
    }
    auto top = load_manifest(ref, top_digest, deadline);
    if (!top) return top.error();

    Json out = {{"reference", ref.str()},
                {"digest", top_digest.str()},
                {"mediaType", oci::media_type_of(top->manifest)},
                {"manifestSize", top->size}};
    std::optional<LoadedManifest> chosen;
    if (const auto* index = std::get_if<oci::ImageIndex>(&top->manifest)) {
      auto entry = oci::select_platform(*index);
      if (!entry) return entry.error();
      Json platforms = Json::array();
      for (const oci::Descriptor& d : index->manifests) {
        platforms.push_back(d.platform ? d.platform->str() : std::string("(none)"));
      }
      out["index"] = {
          {"platforms", platforms},
          {"platform", entry->platform ? entry->platform->str() : std::string("(none)")},
          {"digest", entry->digest.str()},
          {"mediaType", entry->media_type}};
      if (entry->media_type != oci::media::kOciManifest &&
          entry->media_type != oci::media::kDockerManifest) {
        return failed("the chosen index entry is not an image manifest (" + entry->media_type +
                      ")");
      }
      auto child = load_manifest(ref, entry->digest, deadline);
      if (!child) return child.error();
      chosen = std::move(*child);
    } else {
      chosen = std::move(*top);
    }
    const auto* manifest = std::get_if<oci::ImageManifest>(&chosen->manifest);
    if (!manifest) return failed("image indexes nest too deeply");
    if (manifest->artifact_type) out["artifactType"] = *manifest->artifact_type;
    out["config"] = {{"mediaType", manifest->config.media_type},
                     {"digest", manifest->config.digest.str()},
                     {"size", manifest->config.size}};
    if (!manifest->annotations.empty()) out["annotations"] = manifest->annotations;
    Json all_layers = Json::array();
    for (const oci::Descriptor& layer : manifest->layers) {
      all_layers.push_back(
          {{"mediaType", layer.media_type}, {"digest", layer.digest.str()}, {"size", layer.size}});
    }
    out["layers"] = all_layers;
    auto layers = oci::module_layers(*manifest);
    if (!layers) return layers.error();
    const oci::ModuleLayer& layer = layers->front();
    out["layer"] = {{"mediaType", layer.descriptor.media_type},
                    {"digest", layer.descriptor.digest.str()},
                    {"size", layer.descriptor.size},
                    {"format", std::string(oci::format_name(layer.format))}};
    out["size"] = layer.descriptor.size;
    std::optional<Digest> module_digest;
    if (layer.format == oci::LayerFormat::Wasm) {
      module_digest = layer.descriptor.digest;
    } else if (auto known = read_small_file(extracted_dir / layer.descriptor.digest.hex)) {
      module_digest = parse_digest(*known);
    }
    if (module_digest) out["module"] = {{"digest", module_digest->str()}};
    out["cached"] = module_digest.has_value() && store.contains(*module_digest);
    return out;
  }
};

OciModuleSource::OciModuleSource(OciSettings settings)
    : impl_(std::make_unique<Impl>(std::move(settings))) {}

OciModuleSource::~OciModuleSource() = default;

const OciSettings& OciModuleSource::settings() const { return impl_->settings; }

OciModuleSource::Stats OciModuleSource::stats() const {
  return Stats{impl_->resolves.load(), impl_->manifest_fetches.load(), impl_->blob_fetches.load(),
               impl_->blob_bytes.load()};
}

Result<FetchedModule> OciModuleSource::fetch(const std::string& reference,
                                             model::PullPolicy policy) {
  if (impl_->setup_error) return *impl_->setup_error;
  auto ref = oci::parse_reference(reference);
  if (!ref) return ref.error();

  // Single flight: the first caller pulls, later callers for the same key wait for its result.
  const std::string key =
      ref->str() + (policy == model::PullPolicy::Always ? " (Always)" : " (IfNotPresent)");
  std::promise<Result<FetchedModule>> promise;
  {
    std::unique_lock lock(impl_->mutex);
    if (auto it = impl_->inflight.find(key); it != impl_->inflight.end()) {
      auto shared = it->second;
      lock.unlock();
      return shared.get();
    }
    impl_->inflight.emplace(key, promise.get_future().share());
  }

  Result<FetchedModule> result = failed("internal error");
  try {
    result = impl_->fetch(*ref, policy);
  } catch (const std::exception& e) {
    result = failed(std::string("internal error: ") + e.what());
  }
  if (!result) {
    const Error& error = result.error();
    if (error.kind == ErrorKind::NotFound) {
      result = not_found("module " + reference + " not found");
    } else {
      result = error.context("module " + reference);
    }
  }
  {
    std::lock_guard lock(impl_->mutex);
    impl_->inflight.erase(key);
  }
  promise.set_value(result);
  return result;
}

Result<Json> OciModuleSource::inspect(const std::string& reference) {
  if (impl_->setup_error) return *impl_->setup_error;
  auto ref = oci::parse_reference(reference);
  if (!ref) return ref.error();
  auto result = impl_->inspect(*ref);
  if (!result) {
    if (result.error().kind == ErrorKind::NotFound)
      return not_found("module " + reference + " not found");
    return result.error().context("module " + reference);
  }
  return result;
}

}  // namespace wwp::modules
