// Publishing a module as an OCI artifact: config `application/vnd.wasm.config.v0+json`, one
// `application/wasm` layer, an OCI image manifest with source and creation annotations.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/deadline.hpp"
#include "common/digest.hpp"
#include "common/result.hpp"
#include "oci/reference.hpp"
#include "oci/registry_client.hpp"

namespace wwp::oci {

struct PushOptions {
  std::optional<std::string> source;   // org.opencontainers.image.source
  std::optional<std::string> created;  // RFC 3339; now (UTC) when unset
  std::optional<std::string> title;    // org.opencontainers.image.title of the layer (file name)
  std::map<std::string, std::string> annotations;  // further manifest annotations
};

struct Artifact {
  std::string config;
  std::string manifest;
  Digest config_digest;
  Digest layer_digest;
  Digest manifest_digest;
};

// The artifact's config and manifest for these module bytes (no network). Same inputs, same
// digests.
Artifact build_artifact(std::string_view module_bytes, const PushOptions& options);

struct PushResult {
  std::string reference;  // canonical, with the pushed digest
  Digest manifest_digest;
  Digest layer_digest;
  std::uint64_t size = 0;
  bool layer_uploaded = false;  // false when the registry already had the blob
};

// Uploads what the registry lacks, then the manifest under the reference's tag (or digest).
// `module_bytes` must start with the Wasm magic number.
Result<PushResult> push_module(RegistryClient& client, const Reference& ref,
                               std::string_view module_bytes, const PushOptions& options,
                               Deadline deadline);

// UTC now as RFC 3339 ("2024-05-01T12:00:00Z").
std::string rfc3339_now();

}  // namespace wwp::oci
