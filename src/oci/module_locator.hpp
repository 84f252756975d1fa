// From a manifest digest to the module bytes in the blob store: walks an image index to the Wasm
// platform, takes the module layer (or extracts the one .wasm file of an image layer), downloads
// only blobs the store lacks, and leases what it returns so eviction leaves it alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/deadline.hpp"
#include "common/digest.hpp"
#include "common/result.hpp"
#include "oci/manifest.hpp"
#include "oci/reference.hpp"
#include "oci/registry_client.hpp"
#include "store/blob_store.hpp"

namespace wwp::oci {

struct LeasedModule {
  Digest digest;
  std::shared_ptr<const store::BlobStore::Lease> lease;
};

struct LoadedManifest {
  Manifest manifest;
  std::uint64_t size = 0;
};

class ModuleLocator {
 public:
  // `extracted_dir` records which .wasm digest each image layer holds ("none" when it holds none).
  ModuleLocator(store::BlobStore& store, RegistryClient& client,
                std::filesystem::path extracted_dir, std::uint64_t max_blob_bytes);

  // Thread-safe.
  Result<LeasedModule> module_for_manifest(const Reference& ref, const Digest& manifest,
                                           Deadline deadline);
  // A manifest from the store, else from the registry (and then stored).
  Result<LoadedManifest> load_manifest(const Reference& ref, const Digest& digest,
                                       Deadline deadline);
  // The module digest an image layer was found to hold, when it was extracted before.
  std::optional<Digest> extracted_module(const Digest& layer) const;

  struct Counters {
    std::atomic<std::uint64_t> manifest_fetches{0};
    std::atomic<std::uint64_t> blob_fetches{0};
    std::atomic<std::uint64_t> blob_bytes{0};
    std::atomic<std::uint64_t> extractions{0};
  };
  const Counters& counters() const { return counters_; }

 private:
  Result<LeasedModule> walk(const Reference& ref, const Digest& manifest, Deadline deadline,
                            int depth);
  Result<std::optional<LeasedModule>> module_from_image_layer(const Reference& ref,
                                                              const ModuleLayer& layer,
                                                              Deadline deadline);
  Result<Ok> ensure_blob(const Reference& ref, const Descriptor& blob, Deadline deadline);
  // One lease (one lock file descriptor) per digest in this process, however many users.
  Result<std::shared_ptr<const store::BlobStore::Lease>> shared_lease(const Digest& digest);
  void remember(const Digest& manifest, const Digest& module);

  store::BlobStore& store_;
  RegistryClient& client_;
  std::filesystem::path extracted_dir_;
  std::uint64_t max_blob_bytes_;
  Counters counters_;

  std::mutex mutex_;
  std::unordered_map<std::string, Digest> module_of_manifest_;  // manifest hex -> module digest
  std::unordered_map<std::string, std::weak_ptr<const store::BlobStore::Lease>> leases_;
};

}  // namespace wwp::oci
