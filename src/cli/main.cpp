// wasm-workflows-plugin: an Argo Workflows executor plugin that runs WebAssembly modules.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/plugin_config.hpp"
#include "telemetry/log_format.hpp"

#ifndef WWP_VERSION
#define WWP_VERSION "dev"
#endif
#ifndef WWP_WASMTIME_VERSION
#define WWP_WASMTIME_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  using namespace wwp::cli;
  CLI::App app{"wasm-workflows-plugin: run WebAssembly modules as Argo Workflows steps"};
  app.require_subcommand(1);
  // A flag given twice (e.g. in a manifest and by a wrapper script) takes the last value.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  PluginConfig config;
  // Only the subcommand named first on the command line gets its options (the others keep their
  // name and description for --help): CLI11 compares each new option's names with all others, and
  // registering every subcommand's ~150 options cost ~1 ms of every start.
  const std::string_view chosen = argc > 1 ? argv[1] : "";

  auto* serve_cmd = app.add_subcommand("serve", "Serve Argo's executor-plugin API");
  if (chosen == "serve") {
    add_server_flags(*serve_cmd, config);
    add_distributed_flags(*serve_cmd, config);
    add_execution_flags(*serve_cmd, config);
  }

  RunOptions run_options;
  auto* run_cmd = app.add_subcommand(
      "run", "Execute one template locally and print the node result the server would return");
  if (chosen == "run") {
    run_cmd->add_option("file", run_options.file, "Workflow YAML, or one template (YAML/JSON)")
        ->required();
    run_cmd->add_option("-t,--template", run_options.template_name,
                        "Template to run (default: the entrypoint)");
    run_cmd->add_option("-p,--parameter", run_options.parameters,
                        "Input parameter name=value (repeatable)");
    run_cmd
        ->add_option("--workflow-name", run_options.workflow_name,
                     "workflow.name seen by the module")
        ->capture_default_str();
    run_cmd->add_option("--result-file", run_options.result_file,
                        "Also write the node result to this file when it fits in 4 KiB (a "
                        "container's termination message: /dev/termination-log)");
    add_execution_flags(*run_cmd, config);
  }

  RegistryOptions registry;
  auto* push_cmd = app.add_subcommand("push", "Publish a module to an OCI registry");
  auto* pull_cmd =
      app.add_subcommand("pull", "Fetch a module as the plugin would and print what it resolved");
  auto* inspect_cmd =
      app.add_subcommand("inspect", "Show the manifest, platform and layer the plugin would use");
  if (chosen == "push") {
    push_cmd->add_option("file", registry.file, "The .wasm module")
        ->required()
        ->check(CLI::ExistingFile);
    push_cmd->add_option("reference", registry.reference, "registry/repo:tag")->required();
    push_cmd->add_option("--source", registry.source,
                         "Source repository URL (org.opencontainers.image.source)");
  }
  if (chosen == "pull") {
    pull_cmd->add_option("reference", registry.reference, "registry/repo:tag or @sha256:...")
        ->required();
    pull_cmd->add_option("-o,--output", registry.file, "Also write the module to this file");
  }
  if (chosen == "inspect") {
    inspect_cmd->add_option("reference", registry.reference, "registry/repo:tag or @sha256:...")
        ->required();
  }
  for (auto* cmd : {push_cmd, pull_cmd, inspect_cmd}) {
    if (cmd->get_name() != chosen) continue;
    add_registry_flags(*cmd, config);
    cmd->add_option("--fs-cache-dir", config.fs_cache_dir, "Module cache")->envname("FS_CACHE_DIR");
    cmd->add_option("--log-level", config.log_level, "trace, debug, info, warn, error")
        ->envname("LOG_LEVEL");
    cmd->add_option("--log-format", config.log_format, "text or json")->envname("LOG_FORMAT");
  }

  app.add_subcommand("version", "Print the version");

  CLI11_PARSE(app, argc, argv);

  // Logs go to stderr so that `run` prints only the node result on stdout.
  auto format = wwp::telemetry::parse_log_format(config.log_format);
  auto logging = format ? wwp::telemetry::configure_logging(*format, config.log_level)
                        : wwp::Result<wwp::Ok>(format.error());
  if (!logging) {
    std::cerr << logging.error().message << "\n";
    return 2;
  }

  if (app.got_subcommand("version")) {
    std::cout << "wasm-workflows-plugin " << WWP_VERSION << " (wasmtime " << WWP_WASMTIME_VERSION
              << ")\n";
    return 0;
  }
  if (serve_cmd->parsed()) return serve(config);
  if (run_cmd->parsed()) return run_local(config, run_options);
  if (push_cmd->parsed()) return push_module(config, registry);
  if (pull_cmd->parsed()) return pull_module(config, registry);
  if (inspect_cmd->parsed()) return inspect_module(config, registry);
  return 2;
}
