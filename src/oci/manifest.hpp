// Manifests as registries serve them: OCI image manifest and index, Docker schema 2 manifest and
// manifest list; and the choices the plugin makes in them (which platform, which layer).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/digest.hpp"
#include "common/result.hpp"

namespace wwp::oci {

struct Platform {
  std::string architecture;
  std::string os;
  std::string variant;

  std::string str() const;  // "wasm/wasip1", "linux/arm64/v8"
};

struct Descriptor {
  std::string media_type;
  Digest digest;
  std::uint64_t size = 0;
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;
  std::optional<std::string> artifact_type;
};

struct ImageManifest {
  std::string media_type;
  std::optional<std::string> artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
};

struct ImageIndex {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

using Manifest = std::variant<ImageManifest, ImageIndex>;

bool is_manifest_media_type(std::string_view media_type);

// `content_type` is the response's Content-Type, used when the JSON has no mediaType. Malformed
// JSON, missing fields and schema 1 are ErrorKind::Failed naming the problem.
Result<Manifest> parse_manifest(std::string_view bytes, std::string_view content_type = {});
std::string media_type_of(const Manifest& manifest);

// The index entry to use: the wasm/wasi platform (wasip1 and wasi preferred over other wasm
// targets), else the only entry (attestation entries are not counted).
Result<Descriptor> select_platform(const ImageIndex& index);

enum class LayerFormat { Wasm, Tar, TarGzip, TarZstd };
std::string_view format_name(LayerFormat format);

struct ModuleLayer {
  Descriptor descriptor;
  LayerFormat format = LayerFormat::Wasm;
};

// Where the module is: the one layer with a Wasm media type, or else the image's tar layers,
// topmost first (the module is the single .wasm file in the first that has one). A manifest with
// neither fails, naming the media types it has.
Result<std::vector<ModuleLayer>> module_layers(const ImageManifest& manifest);

}  // namespace wwp::oci
