#include "fault_support.hpp"

#include <httplib.h>

namespace wwp::faults::test {

namespace fs = std::filesystem;

int healthz(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(5, 0);
  auto res = client.Get("/healthz");
  return res ? res->status : 0;
}

TimedReply timed_execute(const testing::PluginProcess& plugin, const testing::Json& tmpl,
                         const std::string& workflow_uid) {
  const auto start = std::chrono::steady_clock::now();
  TimedReply out;
  out.reply = plugin.execute(tmpl, workflow_uid);
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return out;
}

std::string message_of(const testing::PluginProcess::Reply& reply) {
  if (reply.status == 200 && reply.body.is_object() && reply.body.contains("node")) {
    return reply.body["node"].value("message", "");
  }
  return reply.raw;
}

// The bucket first, so that the proxy and the settings point at a server ready to serve.
ProxiedS3::ProxiedS3(const std::string& scratch_prefix)
    : dir(scratch_prefix),
      proxy((server.make_bucket("argo"), server.port())),
      settings(artifacts::test::settings_for(server, dir, "argo", "", proxy.host())) {}

std::vector<std::string> ProxiedS3::plugin_args() const {
  return {"--artifact-repository", settings.repository_config->string(), "--artifact-secrets-dir",
          settings.secrets_dir->string()};
}

void age_file(const fs::path& file, std::chrono::minutes age) {
  std::error_code ec;
  fs::last_write_time(file, fs::file_time_type::clock::now() - age, ec);
}

}  // namespace wwp::faults::test
