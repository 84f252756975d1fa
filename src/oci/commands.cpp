#include "oci/commands.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/file_bytes.hpp"
#include "oci/reference.hpp"
#include "oci/registry_client.hpp"

namespace wwp::oci {

namespace fs = std::filesystem;
using Json = nlohmann::json;

Result<Json> push_command(const modules::OciSettings& settings, const fs::path& module_file,
                          const std::string& reference, const PushOptions& options) {
  auto ref = parse_reference(reference);
  if (!ref) return ref.error();
  auto client_options = modules::oci_client_options(settings);
  if (!client_options) return client_options.error();
  auto bytes = wwp::read_file(module_file, settings.max_blob_bytes);
  if (!bytes) return bytes.error().context(module_file.string());
  PushOptions with_title = options;
  if (!with_title.title) with_title.title = module_file.filename().string();
  RegistryClient client(std::move(*client_options));
  auto pushed = push_module(client, *ref, *bytes, with_title, Deadline::in(settings.time_budget));
  if (!pushed) return pushed.error().context("push " + reference);
  return Json{{"reference", pushed->reference},
              {"digest", pushed->manifest_digest.str()},
              {"layer", pushed->layer_digest.str()},
              {"size", pushed->size},
              {"layerUploaded", pushed->layer_uploaded}};
}

Result<Json> pull_command(const modules::OciSettings& settings, const std::string& reference,
                          const std::optional<fs::path>& output) {
  modules::OciModuleSource source(settings);
  auto fetched = source.fetch(reference, model::PullPolicy::Always);
  if (!fetched) return fetched.error();
  std::error_code ec;
  const auto size = fs::file_size(fetched->file, ec);
  Json out = {{"reference", reference},
              {"resolved", fetched->resolved},
              {"digest", fetched->digest.str()},
              {"size", ec ? 0 : size},
              {"file", fetched->file.string()}};
  if (output) {
    // Copy beside the destination, then rename: a reader never sees half a module.
    const fs::path temp = output->parent_path() / (".tmp-" + std::to_string(::getpid()) + "-" +
                                                   output->filename().string());
    fs::copy_file(fetched->file, temp, fs::copy_options::overwrite_existing, ec);
    if (!ec)
      fs::permissions(temp,
                      fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                          fs::perms::others_read,
                      ec);
    if (!ec) fs::rename(temp, *output, ec);
    if (ec) {
      std::error_code ignored;
      fs::remove(temp, ignored);
      return failed("cannot write " + output->string() + ": " + ec.message());
    }
    out["file"] = output->string();
  }
  return out;
}

Result<Json> inspect_command(const modules::OciSettings& settings, const std::string& reference) {
  modules::OciModuleSource source(settings);
  return source.inspect(reference);
}

std::vector<std::string> split_registry_list(std::string_view text) {
  std::vector<std::string> entries;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(',', start), text.size());
    std::string_view entry = text.substr(start, end - start);
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.front())))
      entry.remove_prefix(1);
    while (!entry.empty() && std::isspace(static_cast<unsigned char>(entry.back())))
      entry.remove_suffix(1);
    if (!entry.empty()) entries.emplace_back(entry);
    start = end + 1;
  }
  return entries;
}

void apply_oci_environment(modules::OciSettings& settings, const GetEnv& getenv_override) {
  auto env = [&](const char* name) -> std::optional<std::string> {
    if (getenv_override) return getenv_override(name);
    const char* value = std::getenv(name);
    if (!value || !*value) return std::nullopt;
    return std::string(value);
  };
  if (auto insecure = env("INSECURE_OCI_REGISTRIES")) {
    for (std::string& entry : split_registry_list(*insecure)) {
      settings.insecure_registries.push_back(std::move(entry));
    }
  }
  if (!settings.username) settings.username = env("OCI_USERNAME");
  if (!settings.password) settings.password = env("OCI_PASSWORD");
  if (!settings.ca_file) {
    if (auto ca = env("OCI_CA_FILE")) settings.ca_file = fs::path(*ca);
  }
  if (!settings.docker_config) {
    if (auto config = env("OCI_DOCKER_CONFIG")) {
      settings.docker_config = fs::path(*config);
    } else if (auto dir = env("DOCKER_CONFIG")) {
      std::error_code ec;
      if (fs::is_regular_file(fs::path(*dir) / "config.json", ec)) {
        settings.docker_config = fs::path(*dir) / "config.json";
      }
    }
  }
}

}  // namespace wwp::oci
