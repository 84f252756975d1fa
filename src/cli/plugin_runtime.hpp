// Builds the execution stack from the configuration: engine, module sources and caches,
// artifact service, executor. Shared by `serve` and `run` so both behave identically.
#pragma once

#include <memory>
#include <thread>

#include "artifacts/artifact_service.hpp"
#include "cli/plugin_config.hpp"
#include "common/result.hpp"
#include "executor/executor.hpp"
#include "modules/compiled_cache.hpp"
#include "modules/module_resolver.hpp"
#include "modules/path_source.hpp"
#include "modules/url_source.hpp"
#include "oci/settings.hpp"
#include "sandbox/engine.hpp"
#include "telemetry/otlp_exporter.hpp"

namespace wwp::cli {

struct ResolvedLimits {
  std::chrono::milliseconds requeue_wait;
  std::chrono::milliseconds requeue_after;
  std::chrono::seconds result_ttl;
  std::chrono::seconds shutdown_grace;
};

// The signature verifier the provenance flags describe; null when no policy is given.
Result<std::shared_ptr<const provenance::Verifier>> signature_verifier(const PluginConfig& config);

class PluginRuntime {
 public:
  static Result<std::unique_ptr<PluginRuntime>> create(const PluginConfig& config);
  ~PluginRuntime();

  executor::Executor& executor() { return *executor_; }
  sandbox::Engine& engine() { return *engine_; }
  modules::CompiledCache& compiled_cache() { return *compiled_; }
  artifacts::ArtifactService& artifacts() { return *artifacts_; }
  // Sends the spans still queued (bounded: a dead collector costs ~2 s at most); before exit.
  void flush_traces() {
    if (tracing_) tracing_->shutdown();
  }

 private:
  PluginRuntime() = default;

  std::thread http_init_;  // net::global_init at start-up; joined first thing at the end
  // OTLP trace export configured by OTEL_* (null: tracing off).
  std::shared_ptr<telemetry::OtlpExporter> tracing_;
  std::unique_ptr<sandbox::Engine> engine_;
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<modules::PathSource> paths_;
  std::unique_ptr<modules::UrlSource> urls_;
  std::unique_ptr<modules::ModuleSource> oci_;
  std::unique_ptr<modules::CompiledCache> compiled_;
  std::unique_ptr<modules::ModuleResolver> resolver_;
  std::unique_ptr<artifacts::ArtifactService> artifacts_;
  std::unique_ptr<executor::Executor> executor_;
};

// The OCI settings the configuration describes (cache, registries, credentials; without a docker
// config flag, $DOCKER_CONFIG/config.json when it exists).
oci::OciSettings oci_settings(const PluginConfig& config);

// Duration and quantity flags, parsed with errors that name the flag.
Result<std::chrono::milliseconds> duration_flag(const std::string& flag, const std::string& value);
Result<std::uint64_t> quantity_flag(const std::string& flag, const std::string& value);

}  // namespace wwp::cli
