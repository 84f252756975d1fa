// Image layers (tar, tar+gzip, tar+zstd) from a registry, searched for the one .wasm module that
// goes into the blob store.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_check.hpp"
#include "oci/layer_extract.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path& work_dir() {
  static const fs::path dir = [] {
    std::string pattern = (fs::temp_directory_path() / "wwp-fuzz-layer-XXXXXX").string();
    const char* made = ::mkdtemp(pattern.data());
    WWP_FUZZ_CHECK(made != nullptr, "cannot create the work directory");
    std::atexit([] { fs::remove_all(work_dir()); });
    return fs::path(made);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using wwp::oci::LayerFormat;
  const std::string_view bytes = wwp::fuzz::as_text(data, size);
  const fs::path layer = work_dir() / "layer";
  const fs::path store_root = work_dir() / "store";
  fs::remove_all(store_root);
  fs::create_directories(store_root);
  {
    std::ofstream out(layer, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  LayerFormat format = LayerFormat::Tar;
  if (bytes.starts_with("\x1f\x8b")) format = LayerFormat::TarGzip;
  if (bytes.starts_with("\x28\xb5\x2f\xfd")) format = LayerFormat::TarZstd;
  const wwp::store::BlobStore store(store_root);
  constexpr std::uint64_t kMaxModule = 1 << 20;
  auto module = wwp::oci::extract_wasm(layer, format, store, kMaxModule);
  if (module && *module) {
    const auto& found = **module;
    WWP_FUZZ_CHECK(found.size <= kMaxModule, "a module larger than max_bytes was kept");
    auto stored = store.read(found.digest);
    WWP_FUZZ_CHECK(stored && stored->size() == found.size, "the stored module differs");
    WWP_FUZZ_CHECK(wwp::sha256_of(*stored) == found.digest, "the stored bytes have another digest");
  }
  return 0;
}
