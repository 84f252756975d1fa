// Helpers for the OCI tests: fake modules, blob listings, a test PKI, tar archives.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/files.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace wwp::oci::test {

// Shared test support (tests/support), under the names these tests have always used.
using wwp::test::ChildProcess;
using wwp::test::CommandResult;
using wwp::test::free_port;
using wwp::test::read_file;
using wwp::test::run_command;
using wwp::test::TempDir;
using wwp::test::wait_for_port;
using wwp::test::write_file;

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
