#include "cli/plugin_runtime.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "artifacts/factory.hpp"
#include "common/file_bytes.hpp"
#include "common/units.hpp"
#include "executor/http_transport.hpp"
#include "oci/module_source.hpp"
#include "telemetry/tracer.hpp"

namespace wwp::cli {

namespace fs = std::filesystem;

Result<std::chrono::milliseconds> duration_flag(const std::string& flag, const std::string& value) {
  auto parsed = parse_duration(value);
  if (!parsed) return parsed.error().context("--" + flag);
  return parsed;
}

Result<std::uint64_t> quantity_flag(const std::string& flag, const std::string& value) {
  auto parsed = parse_quantity(value);
  if (!parsed) return parsed.error().context("--" + flag);
  return parsed;
}

namespace {

fs::path cache_dir_of(const PluginConfig& config) {
  return config.fs_cache_dir.empty() ? default_cache_dir() : fs::path(config.fs_cache_dir);
}

}  // namespace

oci::OciSettings oci_settings(const PluginConfig& config) {
  oci::OciSettings settings;
  settings.cache_dir = cache_dir_of(config);
  settings.insecure_registries = config.insecure_oci_registries;
  settings.docker_config = config.docker_config.empty()
                               ? oci::docker_config_from_environment()
                               : std::optional<fs::path>(config.docker_config);
  if (!config.registry_username.empty()) settings.username = config.registry_username;
  if (!config.registry_password.empty()) settings.password = config.registry_password;
  if (!config.registry_ca_file.empty()) settings.ca_file = config.registry_ca_file;
  settings.credential_hosts = config.registry_credential_hosts;
  return settings;
}

Result<std::shared_ptr<const provenance::Verifier>> signature_verifier(const PluginConfig& config) {
  auto policy = provenance::Policy::parse(config.signature_policy);
  if (!policy) return policy.error().context("--signature-policy");
  if (!config.signature_policy_file.empty()) {
    auto text = read_file(config.signature_policy_file, 1 << 20);
    if (!text) return text.error().context("--signature-policy-file");
    auto from_file = provenance::Policy::parse_file_text(*text, config.signature_policy_file);
    if (!from_file) return from_file.error().context("--signature-policy-file");
    for (const provenance::Rule& rule : from_file->rules()) policy->add(rule);
  }
  std::vector<provenance::PublicKey> keys;
  for (const std::string& file : config.signature_keys) {
    auto key = provenance::PublicKey::load(file);
    if (!key) return key.error().context("--signature-key");
    keys.push_back(std::move(*key));
  }
  if (policy->empty()) {
    if (!keys.empty()) {
      spdlog::warn("--signature-key given without --signature-policy: no module is checked");
    }
    return std::shared_ptr<const provenance::Verifier>();
  }
  const bool checks = std::any_of(policy->rules().begin(), policy->rules().end(),
                                  [](const auto& r) { return r.mode != provenance::Mode::Off; });
  if (checks && keys.empty()) {
    return invalid("--signature-policy asks for signatures but no --signature-key is given");
  }
  return std::make_shared<const provenance::Verifier>(std::move(*policy), std::move(keys));
}

PluginRuntime::~PluginRuntime() {
  if (http_init_.joinable()) http_init_.join();
}

Result<std::unique_ptr<PluginRuntime>> PluginRuntime::create(const PluginConfig& config) {
  std::unique_ptr<PluginRuntime> rt(new PluginRuntime());
  // libcurl's global initialisation (OpenSSL reading its configuration) takes ~1 ms and nothing
  // before the first transfer needs it: off the path to readiness. A transfer started earlier
  // waits for it.
  rt->http_init_ = std::thread([] { net::global_init(); });
  const fs::path cache_dir = cache_dir_of(config);
  WWP_TRY_ASSIGN(rt->tracing_, telemetry::setup_tracing_from_env("wasm-workflows-plugin"));

  auto max_memory = quantity_flag("max-memory", config.max_memory);
  if (!max_memory) return max_memory.error();
  auto memory_cache = quantity_flag("memory-cache", config.memory_cache);
  if (!memory_cache) return memory_cache.error();
  executor::ExecutorSettings exec;
  exec.sandbox_parent =
      config.sandbox_dir.empty() ? cache_dir / "sandboxes" : fs::path(config.sandbox_dir);
  auto timeout = duration_flag("default-timeout", config.default_timeout);
  if (!timeout) return timeout.error();
  exec.default_limits.timeout = *timeout;
  auto max_timeout = duration_flag("max-timeout", config.max_timeout);
  if (!max_timeout) return max_timeout.error();
  if (max_timeout->count() <= 0) return invalid("--max-timeout: must be positive");
  exec.max_timeout = *max_timeout;
  exec.default_limits.timeout = std::min(exec.default_limits.timeout, exec.max_timeout);
  auto memory = quantity_flag("default-memory", config.default_memory);
  if (!memory) return memory.error();
  exec.default_limits.memory_bytes = *memory;
  auto output = quantity_flag("max-output", config.max_output);
  if (!output) return output.error();
  exec.default_limits.stdout_bytes = exec.default_limits.stderr_bytes = *output;
  auto result = quantity_flag("max-result", config.max_result);
  if (!result) return result.error();
  exec.max_result_bytes = *result;
  auto outputs = quantity_flag("max-outputs", config.max_outputs);
  if (!outputs) return outputs.error();
  exec.max_output_parameters_bytes = *outputs;
  auto args = quantity_flag("max-args", config.max_args);
  if (!args) return args.error();
  exec.max_args_bytes = *args;
  auto disk = quantity_flag("default-disk", config.default_disk);
  if (!disk) return disk.error();
  exec.sandbox_limits.bytes = *disk;
  auto max_disk = quantity_flag("max-disk", config.max_disk);
  if (!max_disk) return max_disk.error();
  exec.max_disk_bytes = *max_disk;
  exec.sandbox_limits.files = config.max_disk_files;
  exec.sandbox_limits.open_files = config.max_open_files;

  exec.http.enabled = !config.http_disabled;
  exec.http.max_allowed_hosts = config.http_max_allowed_hosts;
  exec.http.max_concurrent_requests = config.http_max_concurrent_requests;
  exec.http.max_requests = config.http_max_requests;
  auto http_response = quantity_flag("http-max-response", config.http_max_response);
  if (!http_response) return http_response.error();
  exec.http.max_response_bytes = *http_response;
  auto http_timeout = duration_flag("http-timeout", config.http_timeout);
  if (!http_timeout) return http_timeout.error();
  exec.http.request_timeout = *http_timeout;
  auto deny = executor::AddressDenyList::parse(config.http_deny_cidrs);
  if (!deny) return deny.error();
  exec.http.deny = std::move(*deny);

  sandbox::EngineSettings engine_settings;
  engine_settings.pooling_allocator = config.pooling_allocator;
  engine_settings.tiered = config.tiered_compilation;
  engine_settings.max_memory_bytes = *max_memory;
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t concurrency = config.max_concurrency ? config.max_concurrency : cores;
  engine_settings.pool_instances =
      static_cast<std::uint32_t>(std::max<std::size_t>(16, concurrency * 4));
  exec.http_transport = executor::make_http_transport(net::default_client());
  auto engine = sandbox::Engine::create(engine_settings);
  if (!engine) return engine.error();
  if ((*engine)->settings().pooling_fallback) {
    spdlog::warn(
        "pooling allocator off: cannot reserve the address space of {} instance slots (ulimit "
        "-v?); "
        "memories are allocated per step instead (slower instantiation)",
        engine_settings.pool_instances);
  }
  rt->engine_ = std::move(*engine);

  rt->blobs_ = std::make_unique<store::BlobStore>(cache_dir / "blobs");
  rt->paths_ = std::make_unique<modules::PathSource>(config.module_dir);
  rt->urls_ = std::make_unique<modules::UrlSource>(*rt->blobs_, modules::UrlSettings{});
  oci::OciSettings oci = oci_settings(config);
  auto verifier = signature_verifier(config);
  if (!verifier) return verifier.error();
  oci.signatures = std::move(*verifier);
  rt->oci_ = std::make_unique<oci::OciModuleSource>(std::move(oci));
  rt->compiled_ =
      std::make_unique<modules::CompiledCache>(*rt->engine_, cache_dir / "compiled", *memory_cache);
  rt->resolver_ = std::make_unique<modules::ModuleResolver>(*rt->paths_, *rt->urls_, rt->oci_.get(),
                                                            *rt->compiled_);
  artifacts::ArtifactSettings artifact_settings;
  if (!config.artifact_repository.empty())
    artifact_settings.repository_config = config.artifact_repository;
  if (!config.artifact_secrets_dir.empty())
    artifact_settings.secrets_dir = config.artifact_secrets_dir;
  artifact_settings.discover_from_kubernetes = config.discover_artifact_repository;
  artifact_settings.scratch_dir = cache_dir / "artifact-scratch";
  std::error_code scratch_error;
  fs::create_directories(*artifact_settings.scratch_dir, scratch_error);
  auto artifact_service = artifacts::make_artifact_service(artifact_settings);
  if (!artifact_service) return artifact_service.error().context("artifact repository");
  rt->artifacts_ = std::move(*artifact_service);

  rt->executor_ = std::make_unique<executor::Executor>(exec, *rt->engine_, *rt->resolver_,
                                                       rt->artifacts_.get());
  return rt;
}

}  // namespace wwp::cli
