// Modules shipped as container images (FROM scratch + COPY module.wasm): the module is the one
// `.wasm` regular file in a tar (optionally gzip or zstd compressed) layer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "common/digest.hpp"
#include "common/result.hpp"
#include "oci/manifest.hpp"
#include "store/blob_store.hpp"

namespace wwp::oci {

struct ExtractedModule {
  Digest digest;  // of the .wasm bytes, as stored in the blob store
  std::string path_in_layer;
  std::uint64_t size = 0;
};

// Streams the layer once; the .wasm file goes straight into `store`. Returns nullopt when the
// layer holds no .wasm file, and fails when it holds several (naming them), when the archive is
// corrupt, or when the module exceeds `max_bytes`.
Result<std::optional<ExtractedModule>> extract_wasm(const std::filesystem::path& layer_file,
                                                    LayerFormat format,
                                                    const store::BlobStore& store,
                                                    std::uint64_t max_bytes);

}  // namespace wwp::oci
