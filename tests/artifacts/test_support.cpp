#include "test_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace wwp::artifacts::test {

ScratchDir::ScratchDir(const std::string& prefix) {
  std::string pattern = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buffer.data();
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  // Tests make read-only trees; restore write access so removal works for non-root users too.
  for (fs::recursive_directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory() && !it->is_symlink()) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
  }
  fs::remove_all(path_, ec);
}

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "<missing " + path.string() + ">";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), n);
  int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out.push_back(c);
  }
  return out + "'";
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  ::close(fd);
  return port;
}

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

bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

S3Server::S3Server() {
  const std::string binary = find_versitygw();
  fs::create_directories(dir_ / "root");
  // A port picked this way can be taken by a parallel test before versitygw binds it; retry.
  for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
    port_ = free_port();
    const std::string listen = "127.0.0.1:" + std::to_string(port_);
    const std::string root = (dir_ / "root").string();
    const std::string log = (dir_ / "versitygw.log").string();
    std::vector<std::string> args = {binary,   "--access", kAccessKey, "--secret", kSecretKey,
                                     "--port", listen,     "--quiet",  "posix",    root};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "cannot start " << binary << " (run scripts/setup.sh to build it)";
      return;
    }
    for (int i = 0; i < 200; ++i) {
      if (port_open(port_)) {
        pid_ = pid;
        return;
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) break;  // exited: port taken, try another
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (pid_ < 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  ADD_FAILURE() << "versitygw did not come up: " << read_file(dir_ / "versitygw.log");
}

S3Server::~S3Server() { stop(); }

void S3Server::stop() {
  if (pid_ < 0) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

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
  ASSERT_EQ(result.status, 0) << result.output;
}

std::optional<fs::path> S3Server::get(const std::string& bucket, const std::string& key,
                                      const fs::path& destination) const {
  auto result = aws("s3api get-object --bucket " + quote(bucket) + " --key " + quote(key) + " " +
                    quote(destination.string()));
  if (result.status != 0) return std::nullopt;
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
