#include "modules/blob_store.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

namespace wwp::modules {

namespace fs = std::filesystem;

std::optional<Digest> parse_digest(std::string_view text) {
  if (text.starts_with("sha256:")) text.remove_prefix(7);
  if (text.size() != 64 || text.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return std::nullopt;
  }
  return Digest{std::string(text)};
}

Digest sha256_of(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return Digest{hex};
}

BlobStore::BlobStore(fs::path root) : root_(std::move(root)) {}

fs::path BlobStore::path_of(const Digest& digest) const { return root_ / "sha256" / digest.hex; }

bool BlobStore::contains(const Digest& digest) const {
  std::error_code ec;
  return fs::is_regular_file(path_of(digest), ec);
}

fs::path BlobStore::temp_path() const {
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::ostringstream name;
  name << ".tmp-" << ::getpid() << "-" << counter++ << "-" << std::hex << rng();
  return root_ / "sha256" / name.str();
}

Result<Ok> BlobStore::commit(const fs::path& temp_file, const Digest& digest) {
  std::error_code ec;
  fs::rename(temp_file, path_of(digest), ec);
  if (ec) {
    fs::remove(temp_file, ec);
    return failed("cannot store blob " + digest.str() + " in " + root_.string() + ": " + ec.message());
  }
  return Ok{};
}

Result<Digest> BlobStore::put(std::string_view bytes, const std::optional<Digest>& expected) {
  Digest digest = sha256_of(bytes);
  if (expected && *expected != digest) {
    return failed("digest mismatch: expected " + expected->str() + ", got " + digest.str());
  }
  if (contains(digest)) return digest;
  std::error_code ec;
  fs::create_directories(root_ / "sha256", ec);
  if (ec) return failed("cannot create blob store " + root_.string() + ": " + ec.message());
  fs::path temp = temp_path();
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      fs::remove(temp, ec);
      return failed("cannot write blob to " + temp.string());
    }
  }
  auto committed = commit(temp, digest);
  if (!committed) return committed.error();
  return digest;
}

Result<std::string> BlobStore::read(const Digest& digest) const {
  std::ifstream in(path_of(digest), std::ios::binary);
  if (!in) return not_found("blob " + digest.str() + " is not in " + root_.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace wwp::modules
