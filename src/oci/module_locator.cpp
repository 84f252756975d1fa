#include "oci/module_locator.hpp"

#include <spdlog/spdlog.h>

#include <fstream>

#include "common/atomic_file.hpp"
#include "oci/layer_extract.hpp"

namespace wwp::oci {

namespace fs = std::filesystem;

namespace {

// How long to wait for another thread or process that is downloading the same blob.
constexpr auto kFetchLockWait = std::chrono::minutes(5);

std::optional<std::string> read_first_line(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  std::getline(in, text);
  return text;
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

}  // namespace

ModuleLocator::ModuleLocator(store::BlobStore& store, RegistryClient& client,
                             fs::path extracted_dir, std::uint64_t max_blob_bytes)
    : store_(store),
      client_(client),
      extracted_dir_(std::move(extracted_dir)),
      max_blob_bytes_(max_blob_bytes) {}

Result<std::shared_ptr<const store::BlobStore::Lease>> ModuleLocator::shared_lease(
    const Digest& digest) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = leases_.find(digest.hex); it != leases_.end()) {
      if (auto held = it->second.lock()) return held;
    }
  }
  WWP_TRY_ASSIGN(auto fresh, store_.lease(digest));  // may wait for an evictor; not under the mutex
  std::lock_guard lock(mutex_);
  if (leases_.size() > 4096)
    std::erase_if(leases_, [](const auto& entry) { return entry.second.expired(); });
  auto& slot = leases_[digest.hex];
  if (auto held = slot.lock()) return held;
  slot = fresh;
  return fresh;
}

void ModuleLocator::remember(const Digest& manifest, const Digest& module) {
  std::lock_guard lock(mutex_);
  module_of_manifest_[manifest.hex] = module;
}

std::optional<Digest> ModuleLocator::extracted_module(const Digest& layer) const {
  auto known = read_first_line(extracted_dir_ / layer.hex);
  if (!known) return std::nullopt;
  return parse_digest(*known);
}

Result<LoadedManifest> ModuleLocator::load_manifest(const Reference& ref, const Digest& digest,
                                                    Deadline deadline) {
  if (store_.contains(digest)) {
    if (auto bytes = store_.read(digest)) {
      if (auto parsed = parse_manifest(*bytes))
        return LoadedManifest{std::move(*parsed), bytes->size()};
    }
    // Unreadable or evicted meanwhile: the registry's copy is the same bytes.
  }
  WWP_TRY_ASSIGN(auto fetched, client_.get_manifest(ref, digest.str(), deadline));
  ++counters_.manifest_fetches;
  if (auto stored = store_.put(fetched.bytes, digest); !stored) {
    spdlog::warn("oci cache: {}", stored.error().message);
  }
  return LoadedManifest{std::move(fetched.manifest), fetched.bytes.size()};
}

Result<Ok> ModuleLocator::ensure_blob(const Reference& ref, const Descriptor& blob,
                                      Deadline deadline) {
  if (store_.contains(blob.digest)) return Ok{};
  WWP_TRY_ASSIGN(auto lock, store_.lock_for_fetch(blob.digest, kFetchLockWait));
  if (store_.contains(blob.digest)) return Ok{};  // fetched by someone else while we waited
  WWP_TRY(client_.fetch_blob(ref, blob, store_, deadline));
  ++counters_.blob_fetches;
  counters_.blob_bytes += blob.size;
  return Ok{};
}

Result<std::optional<LeasedModule>> ModuleLocator::module_from_image_layer(const Reference& ref,
                                                                           const ModuleLayer& layer,
                                                                           Deadline deadline) {
  using Found = std::optional<LeasedModule>;
  const Digest& layer_digest = layer.descriptor.digest;
  const fs::path mapping = extracted_dir_ / layer_digest.hex;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto known = read_first_line(mapping)) {
      if (*known == "none") return Found();
      if (auto digest = parse_digest(*known)) {
        WWP_TRY_ASSIGN(auto lease, shared_lease(*digest));
        if (store_.contains(*digest)) return Found(LeasedModule{*digest, lease});
      }
    }
    WWP_TRY_ASSIGN(auto layer_lease, shared_lease(layer_digest));
    WWP_TRY(ensure_blob(ref, layer.descriptor, deadline));
    auto extracted =
        extract_wasm(store_.path_of(layer_digest), layer.format, store_, max_blob_bytes_);
    if (!extracted) return extracted.error().context("layer " + layer_digest.str());
    ++counters_.extractions;
    if (auto written =
            write_file_atomically(mapping, *extracted ? (*extracted)->digest.hex : "none");
        !written) {
      spdlog::warn("oci cache: {}", written.error().message);
    }
    if (!*extracted) return Found();
    spdlog::debug("oci: {} holds {} ({} bytes)", layer_digest.str(), (*extracted)->path_in_layer,
                  (*extracted)->size);
    WWP_TRY_ASSIGN(auto lease, shared_lease((*extracted)->digest));
    // Evicted between extraction and lease only in a cache far too small; try once more.
    if (store_.contains((*extracted)->digest))
      return Found(LeasedModule{(*extracted)->digest, lease});
  }
  return transient("the module cache evicted the module while it was being extracted");
}

Result<LeasedModule> ModuleLocator::module_for_manifest(const Reference& ref,
                                                        const Digest& manifest, Deadline deadline) {
  return walk(ref, manifest, deadline, 0);
}

Result<LeasedModule> ModuleLocator::walk(const Reference& ref, const Digest& manifest_digest,
                                         Deadline deadline, int depth) {
  std::optional<Digest> known;
  {
    std::lock_guard lock(mutex_);
    if (auto it = module_of_manifest_.find(manifest_digest.hex); it != module_of_manifest_.end())
      known = it->second;
  }
  if (known) {
    WWP_TRY_ASSIGN(auto lease, shared_lease(*known));
    if (store_.contains(*known)) return LeasedModule{*known, lease};
  }

  WWP_TRY_ASSIGN(auto loaded, load_manifest(ref, manifest_digest, deadline));
  if (const auto* index = std::get_if<ImageIndex>(&loaded.manifest)) {
    if (depth >= 2) return failed("image indexes nest too deeply");
    WWP_TRY_ASSIGN(auto entry, select_platform(*index));
    if (!is_manifest_media_type(entry.media_type)) {
      return failed("the index entry for " +
                    (entry.platform ? entry.platform->str() : std::string("the module")) +
                    " has media type " + entry.media_type + ", not a manifest");
    }
    auto module = walk(ref, entry.digest, deadline, depth + 1);
    if (module) remember(manifest_digest, module->digest);
    return module;
  }

  const auto& image = std::get<ImageManifest>(loaded.manifest);
  WWP_TRY_ASSIGN(auto layers, module_layers(image));
  for (const ModuleLayer& layer : layers) {
    if (layer.format == LayerFormat::Wasm) {
      WWP_TRY_ASSIGN(auto lease, shared_lease(layer.descriptor.digest));
      WWP_TRY(ensure_blob(ref, layer.descriptor, deadline));
      WWP_TRY(check_wasm_header(store_.path_of(layer.descriptor.digest), layer.descriptor.digest));
      remember(manifest_digest, layer.descriptor.digest);
      return LeasedModule{layer.descriptor.digest, lease};
    }
    WWP_TRY_ASSIGN(auto module, module_from_image_layer(ref, layer, deadline));
    if (module) {
      WWP_TRY(check_wasm_header(store_.path_of(module->digest), module->digest));
      remember(manifest_digest, module->digest);
      return std::move(*module);
    }
  }
  return failed("none of the image's " + std::to_string(layers.size()) +
                " layers holds a .wasm file");
}

}  // namespace wwp::oci
