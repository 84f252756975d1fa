// Manifests and indexes as a registry serves them, and the choices made in them (platform, module
// layer). The first line of the input is the response's Content-Type, the rest the body.
#include <variant>

#include "fuzz_check.hpp"
#include "oci/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace wwp::oci;
  std::string_view input = wwp::fuzz::as_text(data, size);
  std::string_view content_type;
  if (auto newline = input.find('\n'); newline != std::string_view::npos) {
    content_type = input.substr(0, newline);
    input.remove_prefix(newline + 1);
  }
  auto manifest = parse_manifest(input, content_type);
  if (!manifest) return 0;
  (void)media_type_of(*manifest);
  if (const auto* index = std::get_if<ImageIndex>(&*manifest)) {
    if (auto chosen = select_platform(*index); chosen && chosen->platform)
      (void)chosen->platform->str();
  } else if (const auto* image = std::get_if<ImageManifest>(&*manifest)) {
    if (auto layers = module_layers(*image)) {
      WWP_FUZZ_CHECK(!layers->empty(), "module_layers succeeded with no layer");
      for (const auto& layer : *layers) (void)format_name(layer.format);
    }
  }
  return 0;
}
