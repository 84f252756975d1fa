// Modules named by `module: {oci: registry/repo:tag}`: resolved and pulled from an OCI registry
// into the content-addressed cache, shared by every plugin process using the same directory.
//
// Cache layout under `cache_dir`: blobs/ (store::BlobStore: manifests, layers and module bytes by
// digest, plus lock files), tags/ (tag -> manifest digest, with the time it was resolved),
// extracted/ (image layer digest -> digest of the .wasm file it holds).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "model/template.hpp"
#include "modules/module_source.hpp"
#include "oci/manifest.hpp"
#include "oci/settings.hpp"

namespace wwp::oci {

// What `inspect` shows: the manifests a fetch would use, without downloading module layers.
struct Inspection {
  std::string reference;  // canonical
  Digest digest;          // of the top manifest
  std::string media_type;
  std::uint64_t manifest_size = 0;
  std::optional<ImageIndex> index;  // when the reference names an index
  std::optional<Descriptor> entry;  // the index entry chosen
  ImageManifest manifest;           // the image manifest used
  ModuleLayer layer;                // the module layer chosen
  std::optional<Digest> module;     // the module's digest, when known without a download
  bool cached = false;              // whether the module bytes are in the cache
};

class OciModuleSource : public modules::ModuleSource {
 public:
  explicit OciModuleSource(OciSettings settings);
  ~OciModuleSource() override;
  OciModuleSource(const OciModuleSource&) = delete;
  OciModuleSource& operator=(const OciModuleSource&) = delete;

  // The pull's time budget (`time_budget`) ends earlier when `deadline` does.
  Result<modules::FetchedModule> fetch(const model::ModuleRef& ref, Deadline deadline) override;

  // Thread-safe; concurrent calls for the same reference (and policy) share one pull.
  // IfNotPresent: a digest reference never touches the network once cached; a tag is resolved
  // again after `tag_refresh` (and the cached digest is used if the registry is unreachable).
  // Always: a tag is resolved on every call; blobs already cached are still not downloaded.
  // `resolved` in the result is registry/repo[:tag]@<manifest digest>.
  Result<modules::FetchedModule> fetch(const std::string& reference, model::PullPolicy policy,
                                       Deadline deadline = kNoDeadline);

  // Always asks the registry for tags.
  Result<Inspection> inspect(const std::string& reference);

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

}  // namespace wwp::oci
