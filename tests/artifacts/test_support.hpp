// Shared pieces of the artifact tests: scratch directories, a real S3 server (versitygw) on a
// free loopback port, awscli as the independent S3 client, and small file helpers.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "artifacts/factory.hpp"
#include "support/files.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace wwp::artifacts::test {

namespace fs = std::filesystem;

// Shared test support (tests/support), under the names these tests have always used.
using ScratchDir = wwp::test::TempDir;
using wwp::test::CommandResult;
using wwp::test::free_port;
using wwp::test::read_file;
using wwp::test::write_file;
// Runs `command` through /bin/sh.
inline CommandResult run(const std::string& command) { return wwp::test::run_shell(command); }
inline std::string quote(const std::string& text) { return wwp::test::shell_quote(text); }

inline constexpr const char* kAccessKey = "wwp-test-access";
inline constexpr const char* kSecretKey = "wwp-test-secret-key";

// versitygw serving <scratch>/root (one directory per bucket) on 127.0.0.1:<free port>.
class S3Server {
 public:
  S3Server();
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;
  ~S3Server();

  std::string endpoint() const;  // "127.0.0.1:PORT"
  std::string url() const { return "http://" + endpoint(); }
  int port() const { return port_; }

  // awscli against this server with the test credentials; `args` are appended as is.
  CommandResult aws(const std::string& args) const;
  void make_bucket(const std::string& bucket) const;  // fails the test on error
  void put(const fs::path& file, const std::string& bucket, const std::string& key) const;
  // Downloads with awscli; nullopt when the object does not exist.
  std::optional<fs::path> get(const std::string& bucket, const std::string& key,
                              const fs::path& destination) const;

  void stop();  // for "repository is down" tests

 private:
  ScratchDir dir_{"wwp-versitygw-"};
  int port_ = 0;
  wwp::test::ChildProcess process_;
};

// A repository configuration file (Argo's format) pointing at `server` (or at `endpoint`, e.g. a
// proxy in front of it), with credentials in a mounted-secrets layout under `dir`. Returns
// settings ready for make_artifact_service.
ArtifactSettings settings_for(const S3Server& server, const ScratchDir& dir,
                              const std::string& bucket, const std::string& key_format = "",
                              const std::string& endpoint = "");

// Peak resident set size of this process (VmHWM), in bytes.
std::uint64_t peak_rss_bytes();

}  // namespace wwp::artifacts::test
