#include "cli/oci_commands.hpp"

#include "common/atomic_file.hpp"
#include "common/file_bytes.hpp"
#include "oci/module_source.hpp"
#include "oci/reference.hpp"
#include "oci/registry_client.hpp"

namespace wwp::cli {

namespace fs = std::filesystem;
using Json = nlohmann::json;

Result<Json> push_command(const oci::OciSettings& settings, const fs::path& module_file,
                          const std::string& reference, const oci::PushOptions& options) {
  WWP_TRY_ASSIGN(const oci::Reference ref, oci::parse_reference(reference));
  WWP_TRY_ASSIGN(oci::ClientOptions client_options, oci::client_options(settings));
  auto bytes = read_file(module_file, settings.max_blob_bytes);
  if (!bytes) return bytes.error().context(module_file.string());
  oci::PushOptions with_title = options;
  if (!with_title.title) with_title.title = module_file.filename().string();
  oci::RegistryClient client(std::move(client_options));
  auto pushed =
      oci::push_module(client, ref, *bytes, with_title, deadline_in(settings.time_budget));
  if (!pushed) return pushed.error().context("push " + reference);
  return Json{{"reference", pushed->reference},
              {"digest", pushed->manifest_digest.str()},
              {"layer", pushed->layer_digest.str()},
              {"size", pushed->size},
              {"layerUploaded", pushed->layer_uploaded}};
}

Result<Json> pull_command(const oci::OciSettings& settings, const std::string& reference,
                          const std::optional<fs::path>& output) {
  oci::OciModuleSource source(settings);
  WWP_TRY_ASSIGN(const modules::FetchedModule fetched,
                 source.fetch(reference, model::PullPolicy::Always));
  std::error_code ec;
  const auto size = fs::file_size(fetched.file, ec);
  Json out = {{"reference", reference},
              {"resolved", fetched.resolved},
              {"digest", fetched.digest.str()},
              {"size", ec ? 0 : size},
              {"file", fetched.file.string()}};
  if (output) {
    // A reader of the destination never sees half a module.
    WWP_TRY(copy_file_atomically(fetched.file, *output));
    out["file"] = output->string();
  }
  return out;
}

namespace {

Json descriptor_json(const oci::Descriptor& descriptor) {
  return {{"mediaType", descriptor.media_type},
          {"digest", descriptor.digest.str()},
          {"size", descriptor.size}};
}

std::string platform_text(const oci::Descriptor& descriptor) {
  return descriptor.platform ? descriptor.platform->str() : std::string("(none)");
}

Json inspection_json(const oci::Inspection& inspection) {
  Json out = {{"reference", inspection.reference},
              {"digest", inspection.digest.str()},
              {"mediaType", inspection.media_type},
              {"manifestSize", inspection.manifest_size}};
  if (inspection.index && inspection.entry) {
    Json platforms = Json::array();
    for (const oci::Descriptor& entry : inspection.index->manifests)
      platforms.push_back(platform_text(entry));
    out["index"] = {{"platforms", platforms},
                    {"platform", platform_text(*inspection.entry)},
                    {"digest", inspection.entry->digest.str()},
                    {"mediaType", inspection.entry->media_type}};
  }
  const oci::ImageManifest& manifest = inspection.manifest;
  if (manifest.artifact_type) out["artifactType"] = *manifest.artifact_type;
  out["config"] = descriptor_json(manifest.config);
  if (!manifest.annotations.empty()) out["annotations"] = manifest.annotations;
  Json layers = Json::array();
  for (const oci::Descriptor& layer : manifest.layers) layers.push_back(descriptor_json(layer));
  out["layers"] = layers;
  Json layer = descriptor_json(inspection.layer.descriptor);
  layer["format"] = std::string(oci::format_name(inspection.layer.format));
  out["layer"] = layer;
  out["size"] = inspection.layer.descriptor.size;
  if (inspection.module) out["module"] = {{"digest", inspection.module->str()}};
  out["cached"] = inspection.cached;
  return out;
}

}  // namespace

Result<Json> inspect_command(const oci::OciSettings& settings, const std::string& reference) {
  oci::OciModuleSource source(settings);
  WWP_TRY_ASSIGN(const oci::Inspection inspection, source.inspect(reference));
  return inspection_json(inspection);
}

}  // namespace wwp::cli
