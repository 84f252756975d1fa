#include "oci/push.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

#include "oci/media_types.hpp"

namespace wwp::oci {

using Json = nlohmann::ordered_json;

std::string rfc3339_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

Artifact build_artifact(std::string_view module_bytes, const PushOptions& options) {
  Artifact artifact;
  artifact.layer_digest = sha256_of(module_bytes);
  const std::string created = options.created.value_or(rfc3339_now());

  // The shape of the CNCF TAG Runtime "Wasm OCI artifact" config.
  const Json config = {
      {"created", created},
      {"architecture", "wasm"},
      {"os", "wasip1"},
      {"layerDigests", Json::array({artifact.layer_digest.str()})},
  };
  artifact.config = config.dump();
  artifact.config_digest = sha256_of(artifact.config);

  Json layer = {
      {"mediaType", media::kWasm},
      {"digest", artifact.layer_digest.str()},
      {"size", module_bytes.size()},
  };
  if (options.title) layer["annotations"] = {{"org.opencontainers.image.title", *options.title}};

  Json annotations = Json::object();
  for (const auto& [key, value] : options.annotations) annotations[key] = value;
  annotations["org.opencontainers.image.created"] = created;
  if (options.source) annotations["org.opencontainers.image.source"] = *options.source;

  const Json manifest = {
      {"schemaVersion", 2},
      {"mediaType", media::kOciManifest},
      {"artifactType", media::kWasmConfig},
      {"config",
       {{"mediaType", media::kWasmConfig},
        {"digest", artifact.config_digest.str()},
        {"size", artifact.config.size()}}},
      {"layers", Json::array({layer})},
      {"annotations", annotations},
  };
  artifact.manifest = manifest.dump();
  artifact.manifest_digest = sha256_of(artifact.manifest);
  return artifact;
}

Result<PushResult> push_module(RegistryClient& client, const Reference& ref,
                               std::string_view module_bytes, const PushOptions& options,
                               Deadline deadline) {
  if (!module_bytes.starts_with(std::string_view("\0asm", 4))) {
    return invalid("not a WebAssembly module (no \\0asm header)");
  }
  if (module_bytes.size() > client.options().max_blob_bytes) {
    return failed("module is " + std::to_string(module_bytes.size()) +
                  " bytes, more than the limit of " +
                  std::to_string(client.options().max_blob_bytes) + " bytes");
  }
  const Artifact artifact = build_artifact(module_bytes, options);
  PushResult result;
  result.layer_digest = artifact.layer_digest;
  result.size = module_bytes.size();

  const std::pair<std::string_view, const Digest*> blobs[] = {
      {module_bytes, &artifact.layer_digest},
      {artifact.config, &artifact.config_digest},
  };
  for (const auto& [bytes, digest] : blobs) {
    auto exists = client.blob_exists(ref, *digest, deadline);
    if (!exists) return exists.error();
    if (*exists) continue;
    WWP_TRY(client.upload_blob(ref, bytes, *digest, deadline));
    if (digest == &artifact.layer_digest) result.layer_uploaded = true;
  }
  auto pushed = client.put_manifest(ref, ref.manifest_reference(), artifact.manifest,
                                    media::kOciManifest, deadline);
  if (!pushed) return pushed.error();
  result.manifest_digest = *pushed;
  Reference pinned = ref;
  pinned.digest = *pushed;
  result.reference = pinned.str();
  return result;
}

}  // namespace wwp::oci
