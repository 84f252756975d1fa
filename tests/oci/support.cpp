#include "support.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <random>
#include <stdexcept>

namespace wwp::oci::test {

namespace fs = std::filesystem;

std::string fake_wasm(std::size_t size, unsigned seed) {
  std::string bytes("\0asm\1\0\0\0", 8);
  std::mt19937 rng(seed);
  while (bytes.size() < size) bytes += static_cast<char>(rng() & 0xff);
  bytes.resize(std::max<std::size_t>(size, 8));
  return bytes;
}

std::vector<std::string> stored_blobs(const fs::path& blob_root) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(blob_root / "sha256", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(".")) names.push_back(name);
  }
  return names;
}

std::vector<std::string> temp_files(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with(".tmp-")) names.push_back(it->path().string());
  }
  return names;
}

Pki make_pki(const fs::path& dir) {
  fs::create_directories(dir);
  Pki pki{dir / "ca.crt", dir / "server.crt", dir / "server.key", dir / "signing.crt",
          dir / "signing.key"};
  auto run = [](const std::vector<std::string>& argv) {
    const CommandResult result = run_command(argv);
    if (result.exit_code != 0) throw std::runtime_error("openssl failed: " + result.output);
  };
  const fs::path ca_key = dir / "ca.key";
  run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key.string(),
       "-out", pki.ca_cert.string(), "-days", "2", "-subj", "/CN=wwp test CA"});
  const fs::path csr = dir / "server.csr";
  run({"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", pki.server_key.string(),
       "-out", csr.string(), "-subj", "/CN=127.0.0.1"});
  const fs::path ext = dir / "server.ext";
  write_file(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  run({"openssl", "x509", "-req", "-in", csr.string(), "-CA", pki.ca_cert.string(), "-CAkey",
       ca_key.string(), "-CAcreateserial", "-out", pki.server_cert.string(), "-days", "2",
       "-extfile", ext.string()});
  run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
       pki.signing_key.string(), "-out", pki.signing_cert.string(), "-days", "2", "-subj",
       "/CN=wwp test token issuer"});
  return pki;
}

std::string make_tar(const std::vector<std::pair<std::string, std::string>>& files, bool gzip) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (gzip) archive_write_add_filter_gzip(a);
  std::string out;
  // libarchive needs a callback or a fixed buffer; a growing callback keeps any size.
  struct Sink {
    static la_ssize_t write(archive*, void* user, const void* data, size_t length) {
      static_cast<std::string*>(user)->append(static_cast<const char*>(data), length);
      return static_cast<la_ssize_t>(length);
    }
  };
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(a, &out, nullptr, Sink::write, nullptr);
  for (const auto& [name, content] : files) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    if (name.ends_with("/")) {
      archive_entry_set_filetype(entry, AE_IFDIR);
      archive_entry_set_perm(entry, 0755);
      archive_entry_set_size(entry, 0);
      archive_write_header(a, entry);
    } else {
      archive_entry_set_filetype(entry, AE_IFREG);
      archive_entry_set_perm(entry, 0644);
      archive_entry_set_size(entry, static_cast<la_int64_t>(content.size()));
      archive_write_header(a, entry);
      archive_write_data(a, content.data(), content.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

}  // namespace wwp::oci::test
