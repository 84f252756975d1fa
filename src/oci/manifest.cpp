#include "oci/manifest.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "oci/media_types.hpp"

namespace wwp::oci {

using Json = nlohmann::json;

namespace {

Error malformed(std::string_view what) {
  return failed("malformed manifest: " + std::string(what));
}

Result<std::map<std::string, std::string>> parse_annotations(const Json& object,
                                                             const std::string& where) {
  std::map<std::string, std::string> annotations;
  auto it = object.find("annotations");
  if (it == object.end() || it->is_null()) return annotations;
  if (!it->is_object()) return malformed(where + ".annotations is not an object");
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string())
      return malformed(where + ".annotations[\"" + key + "\"] is not a string");
    annotations[key] = value.get<std::string>();
  }
  return annotations;
}

Result<std::string> string_field(const Json& object, const char* key, const std::string& where,
                                 bool required) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) return malformed(where + "." + key + " is missing");
    return std::string();
  }
  if (!it->is_string()) return malformed(where + "." + key + " is not a string");
  return it->get<std::string>();
}

Result<Descriptor> parse_descriptor(const Json& json, const std::string& where) {
  if (!json.is_object()) return malformed(where + " is not an object");
  Descriptor descriptor;
  WWP_TRY_ASSIGN(descriptor.media_type, string_field(json, "mediaType", where, true));
  auto digest_text = string_field(json, "digest", where, true);
  if (!digest_text) return digest_text.error();
  if (!digest_text->starts_with("sha256:")) {
    return malformed(where + ".digest \"" + *digest_text + "\" is not a sha256 digest");
  }
  auto digest = parse_digest(*digest_text);
  if (!digest) return malformed(where + ".digest \"" + *digest_text + "\" is not a sha256 digest");
  descriptor.digest = std::move(*digest);
  auto size = json.find("size");
  if (size == json.end() || !size->is_number_integer() || size->get<std::int64_t>() < 0) {
    return malformed(where + ".size is missing or not a non-negative integer");
  }
  descriptor.size = size->get<std::uint64_t>();
  if (auto platform = json.find("platform"); platform != json.end() && !platform->is_null()) {
    if (!platform->is_object()) return malformed(where + ".platform is not an object");
    Platform p;
    auto arch = string_field(*platform, "architecture", where + ".platform", false);
    if (!arch) return arch.error();
    auto os = string_field(*platform, "os", where + ".platform", false);
    if (!os) return os.error();
    auto variant = string_field(*platform, "variant", where + ".platform", false);
    if (!variant) return variant.error();
    p.architecture = std::move(*arch);
    p.os = std::move(*os);
    p.variant = std::move(*variant);
    descriptor.platform = std::move(p);
  }
  WWP_TRY_ASSIGN(descriptor.annotations, parse_annotations(json, where));
  auto artifact_type = string_field(json, "artifactType", where, false);
  if (!artifact_type) return artifact_type.error();
  if (!artifact_type->empty()) descriptor.artifact_type = std::move(*artifact_type);
  return descriptor;
}

Result<std::vector<Descriptor>> parse_descriptor_list(const Json& json, const char* key) {
  auto it = json.find(key);
  if (it == json.end() || !it->is_array())
    return malformed(std::string(key) + " is missing or not an array");
  std::vector<Descriptor> list;
  for (std::size_t i = 0; i < it->size(); ++i) {
    auto descriptor = parse_descriptor((*it)[i], std::string(key) + "[" + std::to_string(i) + "]");
    if (!descriptor) return descriptor.error();
    list.push_back(std::move(*descriptor));
  }
  return list;
}

bool is_index_type(std::string_view media_type) {
  return media_type == media::kOciIndex || media_type == media::kDockerManifestList;
}

bool is_attestation(const Descriptor& descriptor) {
  auto it = descriptor.annotations.find("vnd.docker.reference.type");
  return it != descriptor.annotations.end() && it->second == "attestation-manifest";
}

int wasm_rank(const Descriptor& descriptor) {
  if (!descriptor.platform) return -1;
  const Platform& p = *descriptor.platform;
  if (p.os == "wasip1" || p.os == "wasi") return 0;
  if (p.architecture == "wasm" || p.os.starts_with("wasi")) return 1;
  return -1;
}

}  // namespace

std::string Platform::str() const {
  std::string out = (os.empty() ? "?" : os) + "/" + (architecture.empty() ? "?" : architecture);
  if (!variant.empty()) out += "/" + variant;
  return out;
}

bool is_manifest_media_type(std::string_view media_type) {
  return media_type == media::kOciManifest || media_type == media::kOciIndex ||
         media_type == media::kDockerManifest || media_type == media::kDockerManifestList;
}

std::string media_type_of(const Manifest& manifest) {
  return std::visit([](const auto& m) { return m.media_type; }, manifest);
}

Result<Manifest> parse_manifest(std::string_view bytes, std::string_view content_type) {
  Json json = Json::parse(bytes, nullptr, false);
  if (json.is_discarded()) return malformed("not valid JSON");
  if (!json.is_object()) return malformed("not a JSON object");

  if (auto version = json.find("schemaVersion"); version != json.end()) {
    if (!version->is_number_integer()) return malformed("schemaVersion is not an integer");
    if (version->get<int>() == 1) {
      return failed(
          "unsupported manifest: Docker schema 1 (push the module again with a current tool)");
    }
    if (version->get<int>() != 2) return malformed("unsupported schemaVersion " + version->dump());
  }

  auto declared = string_field(json, "mediaType", "manifest", false);
  if (!declared) return declared.error();
  std::string media_type = *declared;
  if (media_type.empty()) {
    std::string_view header = content_type.substr(0, content_type.find(';'));
    while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
    if (is_manifest_media_type(header)) media_type = std::string(header);
  }
  if (media_type.empty()) {
    // OCI allows leaving mediaType out; the shape tells the two OCI kinds apart.
    if (json.contains("manifests"))
      media_type = std::string(media::kOciIndex);
    else if (json.contains("layers"))
      media_type = std::string(media::kOciManifest);
  }
  if (media_type == media::kDockerSchema1 || media_type == media::kDockerSchema1Signed) {
    return failed(
        "unsupported manifest: Docker schema 1 (push the module again with a current tool)");
  }
  if (!is_manifest_media_type(media_type)) {
    return failed("unsupported manifest media type \"" + media_type + "\"");
  }

  if (is_index_type(media_type)) {
    ImageIndex index;
    index.media_type = media_type;
    WWP_TRY_ASSIGN(index.manifests, parse_descriptor_list(json, "manifests"));
    return Manifest(std::move(index));
  }

  ImageManifest manifest;
  manifest.media_type = media_type;
  auto config = json.find("config");
  if (config == json.end()) return malformed("config is missing");
  WWP_TRY_ASSIGN(manifest.config, parse_descriptor(*config, "config"));
  WWP_TRY_ASSIGN(manifest.layers, parse_descriptor_list(json, "layers"));
  WWP_TRY_ASSIGN(manifest.annotations, parse_annotations(json, "manifest"));
  auto artifact_type = string_field(json, "artifactType", "manifest", false);
  if (!artifact_type) return artifact_type.error();
  if (!artifact_type->empty()) manifest.artifact_type = std::move(*artifact_type);
  return Manifest(std::move(manifest));
}

Result<Descriptor> select_platform(const ImageIndex& index) {
  std::vector<const Descriptor*> candidates;
  for (const Descriptor& entry : index.manifests) {
    if (!is_attestation(entry)) candidates.push_back(&entry);
  }
  const Descriptor* best = nullptr;
  for (const Descriptor* entry : candidates) {
    const int rank = wasm_rank(*entry);
    if (rank >= 0 && (!best || rank < wasm_rank(*best))) best = entry;
  }
  if (best) return *best;
  if (candidates.size() == 1) return *candidates.front();
  if (candidates.empty()) return failed("image index lists no manifests");
  std::string platforms;
  for (const Descriptor* entry : candidates) {
    if (!platforms.empty()) platforms += ", ";
    platforms += entry->platform ? entry->platform->str() : "(no platform)";
  }
  return failed("image index has no wasm/wasi platform entry (found " + platforms + ")");
}

std::string_view format_name(LayerFormat format) {
  switch (format) {
    case LayerFormat::Wasm:
      return "wasm";
    case LayerFormat::Tar:
      return "tar";
    case LayerFormat::TarGzip:
      return "tar+gzip";
    case LayerFormat::TarZstd:
      return "tar+zstd";
  }
  return "unknown";
}

Result<std::vector<ModuleLayer>> module_layers(const ImageManifest& manifest) {
  std::vector<ModuleLayer> wasm;
  std::vector<ModuleLayer> tar;
  for (const Descriptor& layer : manifest.layers) {
    const std::string_view type = layer.media_type;
    if (type == media::kWasm || type == media::kWasmLayer || type == media::kModuleWasmLayer) {
      wasm.push_back({layer, LayerFormat::Wasm});
    } else if (type == media::kOciLayerTarGzip || type == media::kDockerLayerTarGzip) {
      tar.push_back({layer, LayerFormat::TarGzip});
    } else if (type == media::kOciLayerTar || type == media::kDockerLayerTar) {
      tar.push_back({layer, LayerFormat::Tar});
    } else if (type == media::kOciLayerTarZstd) {
      tar.push_back({layer, LayerFormat::TarZstd});
    }
  }
  if (wasm.size() == 1) return wasm;
  if (wasm.size() > 1) {
    return failed("manifest has " + std::to_string(wasm.size()) +
                  " module layers; expected exactly one");
  }
  if (!tar.empty()) {
    std::reverse(tar.begin(), tar.end());
    return tar;
  }
  std::string found;
  for (const Descriptor& layer : manifest.layers) {
    if (!found.empty()) found += ", ";
    found += layer.media_type;
  }
  return failed("manifest has no module layer (layer media types: " +
                (found.empty() ? std::string("none") : found) +
                "; expected application/wasm, application/vnd.wasm.content.layer.v1+wasm, "
                "application/vnd.module.wasm.content.layer.v1+wasm or a tar layer holding one "
                ".wasm file)");
}

}  // namespace wwp::oci
