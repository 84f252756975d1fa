#include "cli/plugin_config.hpp"

#include <cstdlib>

namespace wwp::cli {

std::filesystem::path default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::filesystem::path(xdg) / "wasm-workflows-plugin";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::filesystem::path(home) / ".cache" / "wasm-workflows-plugin";
  return "/tmp/wasm-workflows-plugin";
}

void add_execution_flags(CLI::App& c, PluginConfig& config) {
  c.add_option("--log-level", config.log_level, "trace, debug, info, warn, error")
      ->envname("LOG_LEVEL")
      ->capture_default_str();
  c.add_option("--log-format", config.log_format,
               "text, or json (one object per line, with the step's fields)")
      ->envname("LOG_FORMAT")
      ->capture_default_str();
  c.add_option("--fs-cache-dir", config.fs_cache_dir,
               "Module blobs and precompiled modules (default: ~/.cache/wasm-workflows-plugin)")
      ->envname("FS_CACHE_DIR");
  c.add_option("--module-dir", config.module_dir,
               "Directory that `module: {path: ...}` names files in")
      ->envname("MODULE_DIR");
  c.add_option("--signature-key", config.signature_keys,
               "PEM public key (ECDSA P-256, e.g. cosign.pub) that may sign OCI modules; repeat "
               "for several")
      ->envname("SIGNATURE_KEYS")
      ->delimiter(',');
  c.add_option("--signature-policy", config.signature_policy,
               "PREFIX=MODE: modules under registry[/repository] PREFIX need a signature "
               "(require), are checked and run anyway (warn) or not checked (off); '*' matches "
               "all; the longest prefix wins; repeat for several")
      ->envname("SIGNATURE_POLICY")
      ->delimiter(',');
  c.add_option("--signature-policy-file", config.signature_policy_file,
               "File of 'PREFIX MODE' lines, added after --signature-policy")
      ->envname("SIGNATURE_POLICY_FILE");
  c.add_option("--sandbox-dir", config.sandbox_dir,
               "Where per-step sandbox directories are created (default: <cache>/sandboxes)")
      ->envname("SANDBOX_DIR");
  add_registry_flags(c, config);
  c.add_option("--default-timeout", config.default_timeout,
               "Step timeout when the template sets none")
      ->envname("DEFAULT_TIMEOUT")
      ->capture_default_str();
  c.add_option("--max-timeout", config.max_timeout,
               "Longest timeout a template may ask for (longer ones are cut to it)")
      ->envname("MAX_TIMEOUT")
      ->capture_default_str();
  c.add_option("--default-memory", config.default_memory,
               "Linear-memory limit when the template sets none")
      ->envname("DEFAULT_MEMORY")
      ->capture_default_str();
  c.add_option("--max-memory", config.max_memory, "Largest memory limit a template may ask for")
      ->envname("MAX_MEMORY")
      ->capture_default_str();
  c.add_option("--max-output", config.max_output, "Cap on a step's stdout and on its stderr")
      ->envname("MAX_OUTPUT")
      ->capture_default_str();
  c.add_option("--max-result", config.max_result,
               "Cap on result.json and each output parameter file")
      ->envname("MAX_RESULT")
      ->capture_default_str();
  c.add_option("--max-outputs", config.max_outputs,
               "Cap on all output parameters of a step together")
      ->envname("MAX_OUTPUTS")
      ->capture_default_str();
  c.add_option("--max-args", config.max_args,
               "Cap on args and env together, and on stdin, after parameter substitution")
      ->envname("MAX_ARGS")
      ->capture_default_str();
  c.add_option("--default-disk", config.default_disk,
               "What a step's directory may hold when the template sets no limits.disk")
      ->envname("DEFAULT_DISK")
      ->capture_default_str();
  c.add_option("--max-disk", config.max_disk, "Largest disk limit a template may ask for")
      ->envname("MAX_DISK")
      ->capture_default_str();
  c.add_option("--max-disk-files", config.max_disk_files,
               "Most files and directories a step's directory may hold")
      ->envname("MAX_DISK_FILES")
      ->capture_default_str();
  c.add_option("--max-open-files", config.max_open_files,
               "Most files and directories a step's module may have open at once")
      ->envname("MAX_OPEN_FILES")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  c.add_option("--memory-cache", config.memory_cache,
               "Machine code of compiled modules kept in memory")
      ->envname("MEMORY_CACHE")
      ->capture_default_str();
  c.add_option("--pooling-allocator", config.pooling_allocator,
               "Pre-reserve instance slots for fast instantiation")
      ->envname("POOLING_ALLOCATOR")
      ->capture_default_str();
  c.add_option("--tiered-compilation", config.tiered_compilation,
               "Run a new module's first steps from Winch while Cranelift optimises it")
      ->envname("TIERED_COMPILATION")
      ->capture_default_str();
  c.add_flag("--http-disabled", config.http_disabled,
             "Refuse every template that grants outbound HTTP (permissions.http)")
      ->envname("HTTP_DISABLED");
  c.add_option("--http-max-allowed-hosts", config.http_max_allowed_hosts,
               "Most entries a template's permissions.http.allowed_hosts may have")
      ->envname("HTTP_MAX_ALLOWED_HOSTS")
      ->capture_default_str();
  c.add_option("--http-max-concurrent-requests", config.http_max_concurrent_requests,
               "Largest permissions.http.max_concurrent_requests a template may ask for")
      ->envname("HTTP_MAX_CONCURRENT_REQUESTS")
      ->capture_default_str();
  c.add_option("--http-max-requests", config.http_max_requests,
               "Outbound HTTP requests one step may make")
      ->envname("HTTP_MAX_REQUESTS")
      ->capture_default_str();
  c.add_option("--http-max-response", config.http_max_response,
               "Largest response body a module may receive")
      ->envname("HTTP_MAX_RESPONSE")
      ->capture_default_str();
  c.add_option("--http-timeout", config.http_timeout, "Time one outbound request may take")
      ->envname("HTTP_TIMEOUT")
      ->capture_default_str();
  c.add_option("--http-deny-cidrs", config.http_deny_cidrs,
               "Address ranges no module may reach, whatever a template allows")
      ->envname("HTTP_DENY_CIDRS")
      ->delimiter(',')
      ->capture_default_str();
  c.add_option("--artifact-repository", config.artifact_repository,
               "Argo artifact repository config (YAML: the artifactRepository block)")
      ->envname("ARTIFACT_REPOSITORY");
  c.add_option("--artifact-secrets-dir", config.artifact_secrets_dir,
               "Directory of mounted secrets referenced by the repository config")
      ->envname("ARTIFACT_SECRETS_DIR");
  c.add_flag("--discover-artifact-repository", config.discover_artifact_repository,
             "Read the repository config and secrets from the Kubernetes API")
      ->envname("DISCOVER_ARTIFACT_REPOSITORY");
}

void add_registry_flags(CLI::App& c, PluginConfig& config) {
  c.add_option("--insecure-oci-registries", config.insecure_oci_registries,
               "Registries (host[:port]) reached over plain HTTP")
      ->envname("INSECURE_OCI_REGISTRIES")
      ->delimiter(',');
  c.add_option("--docker-config", config.docker_config,
               "Registry credentials in Docker config JSON format (a dockerconfigjson secret)")
      ->envname("OCI_DOCKER_CONFIG");
  c.add_option("--registry-username", config.registry_username, "Default registry user")
      ->envname("OCI_USERNAME");
  c.add_option("--registry-password", config.registry_password, "Default registry password")
      ->envname("OCI_PASSWORD");
  c.add_option("--registry-credential-hosts", config.registry_credential_hosts,
               "Registries the default user/password may be sent to (default: any registry the "
               "docker config does not name, including ones a template names)")
      ->envname("OCI_CREDENTIAL_HOSTS")
      ->delimiter(',');
  c.add_option("--registry-ca-file", config.registry_ca_file, "Extra CA bundle for registries")
      ->envname("OCI_CA_FILE");
}

void add_server_flags(CLI::App& c, PluginConfig& config) {
  c.add_option("-b,--bind", config.bind, "Address to listen on")
      ->envname("BIND")
      ->capture_default_str();
  c.add_option("-p,--port", config.port, "Port to listen on (0: any free port)")
      ->envname("PORT")
      ->capture_default_str();
  c.add_option("--mode", config.mode,
               "local: steps run in this process; distributed: each step runs in its own pod")
      ->envname("MODE")
      ->capture_default_str();
  c.add_option("--token-file", config.token_file, "Argo's agent token")
      ->envname("TOKEN_FILE")
      ->capture_default_str();
  c.add_flag("--insecure-no-token", config.insecure_no_token,
             "Accept requests without a bearer token (development only)")
      ->envname("INSECURE_NO_TOKEN");
  c.add_option("--max-concurrency", config.max_concurrency,
               "Steps executing at once (default: number of cores)")
      ->envname("MAX_CONCURRENCY");
  c.add_option("--queue-capacity", config.queue_capacity,
               "Steps waiting beyond that before answering 503")
      ->envname("QUEUE_CAPACITY")
      ->capture_default_str();
  c.add_option("--http-threads", config.http_threads,
               "Workers for execute calls (connections themselves need no thread)")
      ->envname("HTTP_THREADS")
      ->capture_default_str();
  c.add_option("--health-port", config.health_port,
               "Extra port answering only /healthz and /readyz, for the probes (-1: none)")
      ->envname("HEALTH_PORT")
      ->capture_default_str();
  c.add_option("--max-waiting-calls", config.max_waiting_calls,
               "Calls that may wait for their step at once; others get Running at once "
               "(default: half of --http-threads)")
      ->envname("MAX_WAITING_CALLS");
  c.add_option("--header-timeout", config.header_timeout,
               "Time a client has to send a request's headers")
      ->envname("HEADER_TIMEOUT")
      ->capture_default_str();
  c.add_option("--body-timeout", config.body_timeout, "Time a client has to send a request body")
      ->envname("BODY_TIMEOUT")
      ->capture_default_str();
  c.add_option("--request-memory", config.request_memory,
               "Request bodies held at once across connections (beyond it: 503)")
      ->envname("REQUEST_MEMORY")
      ->capture_default_str();
  c.add_option("--requeue-wait", config.requeue_wait,
               "How long a call waits before answering Running")
      ->envname("REQUEUE_WAIT")
      ->capture_default_str();
  c.add_option("--run-inline-below", config.run_inline_below,
               "On an idle plugin, run a step on the HTTP event thread when its module's last step "
               "took less, giving it up for a worker past that time (0: never; at most 100ms)")
      ->envname("RUN_INLINE_BELOW")
      ->capture_default_str();
  c.add_option("--requeue-after", config.requeue_after,
               "Delay the Running reply asks the agent to wait")
      ->envname("REQUEUE_AFTER")
      ->capture_default_str();
  c.add_option("--result-ttl", config.result_ttl, "How long an uncollected result is kept")
      ->envname("RESULT_TTL")
      ->capture_default_str();
  c.add_option("--shutdown-grace", config.shutdown_grace,
               "How long SIGTERM waits for running steps")
      ->envname("SHUTDOWN_GRACE")
      ->capture_default_str();
}

void add_distributed_flags(CLI::App& c, PluginConfig& config) {
  c.add_option("--pod-image", config.pod_image,
               "distributed: the plugin's image, run by each step's pod (required)")
      ->envname("POD_IMAGE");
  c.add_option("--pod-image-pull-policy", config.pod_image_pull_policy,
               "distributed: Always, IfNotPresent or Never")
      ->envname("POD_IMAGE_PULL_POLICY")
      ->capture_default_str();
  c.add_option("--pod-pull-secret", config.pod_pull_secrets,
               "distributed: imagePullSecrets of step pods (repeatable)")
      ->envname("POD_PULL_SECRETS")
      ->delimiter(',');
  c.add_option("--pod-service-account", config.pod_service_account,
               "distributed: service account of step pods (default: the namespace's default)")
      ->envname("POD_SERVICE_ACCOUNT");
  c.add_option("--pod-runtime-class", config.pod_runtime_class,
               "distributed: runtimeClassName of step pods")
      ->envname("POD_RUNTIME_CLASS");
  c.add_option("--pod-node-selector", config.pod_node_selector,
               "distributed: key=value node selector of step pods (repeatable)")
      ->envname("POD_NODE_SELECTOR")
      ->delimiter(',');
  c.add_option("--pod-tolerations", config.pod_tolerations,
               "distributed: tolerations of step pods, a JSON array")
      ->envname("POD_TOLERATIONS")
      ->capture_default_str();
  c.add_flag("--pod-host-network", config.pod_host_network,
             "distributed: run step pods in the node's network namespace")
      ->envname("POD_HOST_NETWORK");
  c.add_option("--pod-cpu-request", config.pod_cpu_request,
               "distributed: CPU request of a step pod")
      ->envname("POD_CPU_REQUEST")
      ->capture_default_str();
  c.add_option("--pod-cpu-limit", config.pod_cpu_limit,
               "distributed: CPU limit of a step pod (default: none)")
      ->envname("POD_CPU_LIMIT");
  c.add_option("--pod-memory-overhead", config.pod_memory_overhead,
               "distributed: memory a step pod gets beyond the module's limit")
      ->envname("POD_MEMORY_OVERHEAD")
      ->capture_default_str();
  c.add_option("--pod-start-timeout", config.pod_start_timeout,
               "distributed: a step pod not started by then (image, scheduling) fails the step")
      ->envname("POD_START_TIMEOUT")
      ->capture_default_str();
  c.add_option("--pod-poll-interval", config.pod_poll_interval,
               "distributed: how often a step pod's status is read")
      ->envname("POD_POLL_INTERVAL")
      ->capture_default_str();
  c.add_option("--pod-run-arg", config.pod_run_args,
               "distributed: extra flag for the pod's `run` (repeatable; e.g. --module-dir=...)")
      ->envname("POD_RUN_ARGS")
      ->delimiter(' ');
  c.add_option("--pod-artifact-secret", config.pod_artifact_secrets,
               "distributed: a Secret with artifact credentials, mounted into step pods for "
               "their --artifact-secrets-dir (repeatable)")
      ->envname("POD_ARTIFACT_SECRETS")
      ->delimiter(',');
  c.add_flag("--pod-keep", config.pod_keep,
             "distributed: keep finished step pods (debugging; they go with their workflow)")
      ->envname("POD_KEEP");
  c.add_option("--kube-api", config.kube_api,
               "distributed: Kubernetes API URL (default: in-cluster, KUBERNETES_SERVICE_HOST)")
      ->envname("KUBE_API");
  c.add_option("--kube-token-file", config.kube_token_file, "distributed: bearer token file")
      ->envname("KUBE_TOKEN_FILE")
      ->capture_default_str();
  c.add_option("--kube-ca-file", config.kube_ca_file, "distributed: the API server's CA")
      ->envname("KUBE_CA_FILE")
      ->capture_default_str();
}

}  // namespace wwp::cli
