// Modules named by `module: {oci: registry/repo:tag}`: resolved and pulled from an OCI registry
// into the content-addressed cache, shared by every plugin process using the same directory.
//
// Cache layout under `cache_dir`: blobs/ (BlobStore: manifests, layers and module bytes by
// digest, plus lock files), tags/ (tag -> manifest digest, with the time it was resolved),
// extracted/ (image layer digest -> digest of the .wasm file it holds).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "model/template.hpp"
#include "modules/blob_store.hpp"

namespace wwp::oci {
struct ClientOptions;
}

namespace wwp::modules {

struct OciSettings {
  std::filesystem::path cache_dir;  // blobs under cache_dir/blobs, other state beside it
  std::vector<std::string> insecure_registries;        // plain HTTP
  std::optional<std::filesystem::path> docker_config;  // dockerconfigjson file
  std::optional<std::string> username, password;       // default credentials (flags/env)
  std::optional<std::filesystem::path> ca_file;
  std::chrono::seconds tag_refresh{60};
  std::uint64_t max_blob_bytes = 256ull << 20;
  std::uint64_t max_cache_bytes = 2ull << 30;
  std::chrono::milliseconds time_budget{15000};
  // Registries the default username/password may be sent to; empty means any registry that
  // the docker config does not cover.
  std::vector<std::string> credential_hosts;
};

struct FetchedModule {
  Digest digest;               // of the .wasm bytes
  std::filesystem::path file;  // blob path of the .wasm bytes
  // Keeps the blob from being evicted (in any process) while a copy of this struct lives.
  std::shared_ptr<const BlobStore::Lease> lease;
  std::string resolved;  // registry/repo[:tag]@<manifest digest> that was used
};

class OciModuleSource {
 public:
  explicit OciModuleSource(OciSettings settings);
  ~OciModuleSource();
  OciModuleSource(const OciModuleSource&) = delete;
  OciModuleSource& operator=(const OciModuleSource&) = delete;

  // Thread-safe; concurrent calls for the same reference (and policy) share one pull.
  // IfNotPresent: a digest reference never touches the network once cached; a tag is resolved
  // again after `tag_refresh` (and the cached digest is used if the registry is unreachable).
  // Always: a tag is resolved on every call; blobs already cached are still not downloaded.
  Result<FetchedModule> fetch(const std::string& reference, model::PullPolicy policy);

  // What fetch would use, without downloading module layers: the resolved digest, manifest
  // media type, chosen platform and layer, size. Always asks the registry for tags.
  Result<nlohmann::json> inspect(const std::string& reference);

  const OciSettings& settings() const;

  // Network activity so far (for tests and benchmarks).
  struct Stats {
    std::uint64_t resolves = 0;  // tag -> digest look-ups
    std::uint64_t manifest_fetches = 0;
    std::uint64_t blob_fetches = 0;
    std::uint64_t blob_bytes = 0;
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Client options (credentials loaded from the docker config) for these settings.
Result<oci::ClientOptions> oci_client_options(const OciSettings& settings);

}  // namespace wwp::modules
