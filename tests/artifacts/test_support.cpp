#include "test_support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <utility>

namespace wwp::artifacts::test {

namespace {

std::string find_versitygw() {
  if (const char* env = std::getenv("WWP_VERSITYGW"); env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  if (home != nullptr) {
    fs::path candidate = fs::path(home) / "go/bin/versitygw";
    if (fs::exists(candidate)) return candidate.string();
  }
  return "versitygw";
}

}  // namespace

S3Server::S3Server() {
  const std::string binary = find_versitygw();
  fs::create_directories(dir_ / "root");
  // A port picked this way can be taken by a parallel test before versitygw binds it; retry.
  for (int attempt = 0; attempt < 5 && !process_.running(); ++attempt) {
    port_ = free_port();
    wwp::test::ChildProcess process(
        {binary, "--access", kAccessKey, "--secret", kSecretKey, "--port",
         "127.0.0.1:" + std::to_string(port_), "--quiet", "posix", (dir_ / "root").string()},
        dir_ / "versitygw.log");
    if (!process.started()) {
      ADD_FAILURE() << "cannot start " << binary << " (run scripts/setup.sh to build it)";
      return;
    }
    for (int i = 0; i < 200; ++i) {
      if (wwp::test::port_open(port_)) {
        process_ = std::move(process);
        return;
      }
      if (process.exited()) break;  // port taken: try another
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  ADD_FAILURE() << "versitygw did not come up: " << read_file(dir_ / "versitygw.log");
}

S3Server::~S3Server() { stop(); }

void S3Server::stop() { process_.stop(); }

std::string S3Server::endpoint() const { return "127.0.0.1:" + std::to_string(port_); }

CommandResult S3Server::aws(const std::string& args) const {
  std::string command = std::string("env AWS_ACCESS_KEY_ID=") + kAccessKey +
                        " AWS_SECRET_ACCESS_KEY=" + kSecretKey +
                        " AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true"
                        " AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null"
                        " aws --endpoint-url " +
                        url() + " " + args;
  return run(command);
}

void S3Server::make_bucket(const std::string& bucket) const {
  // versitygw's posix backend serves every top-level directory as a bucket of the root account;
  // a mkdir saves an awscli start-up (about a second) per test.
  std::error_code ec;
  fs::create_directory(dir_ / "root" / bucket, ec);
  ASSERT_FALSE(ec) << ec.message();
}

void S3Server::put(const fs::path& file, const std::string& bucket, const std::string& key) const {
  auto result = aws("s3api put-object --bucket " + quote(bucket) + " --key " + quote(key) +
                    " --body " + quote(file.string()));
  ASSERT_EQ(result.exit_code, 0) << result.output;
}

std::optional<fs::path> S3Server::get(const std::string& bucket, const std::string& key,
                                      const fs::path& destination) const {
  auto result = aws("s3api get-object --bucket " + quote(bucket) + " --key " + quote(key) + " " +
                    quote(destination.string()));
  if (result.exit_code != 0) return std::nullopt;
  return destination;
}

ArtifactSettings settings_for(const S3Server& server, const ScratchDir& dir,
                              const std::string& bucket, const std::string& key_format,
                              const std::string& endpoint) {
  // The layout of a Secret volume per Secret under one directory: <dir>/<secret>/<key>.
  write_file(dir / "secrets/my-s3-credentials/accessKey", std::string(kAccessKey) + "\n");
  write_file(dir / "secrets/my-s3-credentials/secretKey", kSecretKey);
  std::string yaml =
      "s3:\n"
      "  endpoint: " +
      (endpoint.empty() ? server.endpoint() : endpoint) +
      "\n"
      "  bucket: " +
      bucket +
      "\n"
      "  region: us-east-1\n"
      "  insecure: true\n"
      "  accessKeySecret: {name: my-s3-credentials, key: accessKey}\n"
      "  secretKeySecret: {name: my-s3-credentials, key: secretKey}\n";
  if (!key_format.empty()) yaml += "  keyFormat: \"" + key_format + "\"\n";
  write_file(dir / "repository.yaml", yaml);
  ArtifactSettings settings;
  settings.repository_config = dir / "repository.yaml";
  settings.secrets_dir = dir / "secrets";
  settings.credentials_from_env = false;
  settings.retry.max_attempts = 2;
  settings.retry.initial_backoff = std::chrono::milliseconds(50);
  settings.scratch_dir = dir.path();
  return settings;
}

std::uint64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

}  // namespace wwp::artifacts::test
