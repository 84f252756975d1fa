// Helpers for the OCI tests: temporary directories, child processes, ports, fake modules.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace wwp::oci::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A port nobody listens on right now (bind to 0, read it back, close).
int free_port();
// Polls until something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};
// Runs a program to completion (no shell).
CommandResult run_command(const std::vector<std::string>& argv);

// A background process, killed (SIGTERM, then SIGKILL) when the object dies.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_file);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();
  void stop();
  void kill_now();  // SIGKILL: a crash, no chance to clean up
  int wait();       // exit code, or -1 when killed by a signal
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

void write_file(const std::filesystem::path& path, std::string_view bytes);
std::string read_file(const std::filesystem::path& path);

// Bytes that pass for a module: the Wasm header followed by deterministic filler.
std::string fake_wasm(std::size_t size, unsigned seed = 1);

// Files of the regular (non-temporary) blobs in a BlobStore root.
std::vector<std::string> stored_blobs(const std::filesystem::path& blob_root);
// Temporary files left anywhere below `dir`.
std::vector<std::string> temp_files(const std::filesystem::path& dir);

// A test CA, a server certificate for 127.0.0.1/localhost signed by it, and a self-signed token
// signing certificate, made with the openssl CLI.
struct Pki {
  std::filesystem::path ca_cert;
  std::filesystem::path server_cert;
  std::filesystem::path server_key;
  std::filesystem::path signing_cert;
  std::filesystem::path signing_key;
};
Pki make_pki(const std::filesystem::path& dir);

// A tar (gzip-compressed when `gzip`) archive holding the given files.
std::string make_tar(const std::vector<std::pair<std::string, std::string>>& files, bool gzip);

}  // namespace wwp::oci::test
