// The process configuration: every flag of `serve` and `run`, each with an environment twin.
// The earlier implementation's names (BIND/PORT flags, LOG_LEVEL, MODE, FS_CACHE_DIR,
// INSECURE_OCI_REGISTRIES) are kept so its ExecutorPlugin manifests keep working.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace wwp::cli {

struct PluginConfig {
  std::string bind = "127.0.0.1";
  int port = 3000;
  std::string log_level = "info";
  std::string log_format = "text";  // text | json
  std::string mode = "local";
  std::string fs_cache_dir;
  std::vector<std::string> insecure_oci_registries;
  std::string docker_config;
  std::string registry_username;
  std::vector<std::string> registry_credential_hosts;  // where the default credentials may go
  std::string registry_password;
  std::string registry_ca_file;
  std::string token_file = "/var/run/argo/token";
  bool insecure_no_token = false;
  std::string module_dir;
  std::string sandbox_dir;
  std::size_t max_concurrency = 0;  // 0: number of cores
  std::size_t queue_capacity = 256;
  std::size_t http_threads = 64;
  int health_port = -1;               // -1: probes only on the main port
  std::size_t max_waiting_calls = 0;  // 0: half of http_threads
  std::string header_timeout = "10s";
  std::string body_timeout = "60s";
  std::string request_memory = "64Mi";
  std::string requeue_wait = "20s";
  std::string run_inline_below = "5ms";
  std::string requeue_after = "5s";
  std::string result_ttl = "10m";
  std::string shutdown_grace = "25s";
  std::string default_timeout = "10m";
  std::string max_timeout = "24h";
  std::string default_memory = "256Mi";
  // Fits the documented pod limit: see the sizing rule in docs/operations.md.
  std::string max_memory = "512Mi";
  std::string max_output = "1Mi";
  std::string max_result = "1Mi";
  std::string max_outputs = "2Mi";
  std::string max_args = "1Mi";
  std::string default_disk = "1Gi";
  std::string max_disk = "10Gi";
  std::size_t max_disk_files = 100000;
  std::size_t max_open_files = 1024;
  std::string memory_cache = "512Mi";
  bool pooling_allocator = true;
  bool tiered_compilation = true;
  // Outbound HTTP for modules: what templates may grant (docs/permissions-and-limits.md)
  bool http_disabled = false;
  std::size_t http_max_allowed_hosts = 16;
  std::uint32_t http_max_concurrent_requests = 32;
  std::uint32_t http_max_requests = 100;
  std::string http_max_response = "16Mi";
  std::string http_timeout = "30s";
  std::vector<std::string> http_deny_cidrs = {"169.254.0.0/16", "fe80::/10"};
  // Module provenance (docs/oci.md): cosign keys and a mode per registry/repository prefix
  std::vector<std::string> signature_keys;
  std::vector<std::string> signature_policy;  // PREFIX=MODE
  std::string signature_policy_file;
  // Artifacts
  std::string artifact_repository;
  std::string artifact_secrets_dir;
  bool discover_artifact_repository = false;
  // Distributed mode (docs/distributed-mode.md): one pod per step
  std::string pod_image;
  std::string pod_image_pull_policy = "IfNotPresent";
  std::vector<std::string> pod_pull_secrets;
  std::string pod_service_account;
  std::string pod_runtime_class;
  std::vector<std::string> pod_node_selector;  // key=value
  std::string pod_tolerations = "[]";          // JSON array of Kubernetes tolerations
  bool pod_host_network = false;
  std::string pod_cpu_request = "100m";
  std::string pod_cpu_limit;
  std::string pod_memory_overhead = "128Mi";
  std::string pod_start_timeout = "2m";
  std::string pod_poll_interval = "500ms";
  std::vector<std::string> pod_run_args;
  std::vector<std::string> pod_artifact_secrets;
  bool pod_keep = false;
  std::string kube_api;  // empty: in-cluster
  std::string kube_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string kube_ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
};

// Adds the flags shared by `serve` and `run` (module sources, caches, limits, artifacts).
void add_execution_flags(CLI::App& command, PluginConfig& config);
// Adds the registry flags (insecure registries, credentials, CA) shared by every command.
void add_registry_flags(CLI::App& command, PluginConfig& config);
// Adds the server-only flags.
void add_server_flags(CLI::App& command, PluginConfig& config);
// Adds the flags of distributed mode (serve only).
void add_distributed_flags(CLI::App& command, PluginConfig& config);

std::filesystem::path default_cache_dir();

}  // namespace wwp::cli
