#include "modules/precompiled_seal.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace wwp::modules {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'W', 'W', 'P', 'C', 'W', 'S', 'M', '2'};
constexpr const char* kKeyFile = "precompiled.key";

bool private_to_us(const struct stat& st) {
  return st.st_uid == ::geteuid() && (st.st_mode & (S_IRWXG | S_IRWXO)) == 0;
}

}  // namespace

bool owned_by_us(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  return st.st_uid == ::geteuid() && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

Result<PrecompiledSeal> PrecompiledSeal::open(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return failed("cannot create " + dir.string() + ": " + ec.message());
  const fs::path path = dir / kKeyFile;
  std::array<std::uint8_t, 32> key{};
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    // The kernel's generator: OpenSSL's RAND_bytes would first instantiate its DRBG (5.8M
    // instructions, a third of start-up's own work) for these 32 bytes.
    if (::getrandom(key.data(), key.size(), 0) != static_cast<ssize_t>(key.size()))
      return failed("cannot generate the precompiled-cache key");
    // Written under a temporary name and linked into place, so a concurrent plugin sees no key
    // or a whole one; the loser of a race reads the winner's.
    const fs::path temp = dir / (std::string(kKeyFile) + ".tmp-" + std::to_string(::getpid()));
    int out = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) return failed("cannot create " + temp.string() + ": " + std::strerror(errno));
    const bool written = ::write(out, key.data(), key.size()) == static_cast<ssize_t>(key.size());
    ::close(out);
    const bool linked = written && ::link(temp.c_str(), path.c_str()) == 0;
    ::unlink(temp.c_str());
    if (!written) return failed("cannot write " + path.string());
    if (linked) return PrecompiledSeal(key);
    fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) return failed("cannot open " + path.string() + ": " + std::strerror(errno));
  struct stat st {};
  const bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && private_to_us(st) &&
                  st.st_size == static_cast<off_t>(key.size()) &&
                  ::read(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size());
  ::close(fd);
  if (!ok) {
    return failed(path.string() +
                  " must be a 32-byte file owned by the plugin's user with mode 0600; the "
                  "precompiled cache is not used");
  }
  return PrecompiledSeal(key);
}

std::array<std::uint8_t, 32> PrecompiledSeal::mac(std::string_view digest_hex,
                                                  std::string_view fingerprint,
                                                  std::span<const std::uint8_t> payload) const {
  std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> hmac(EVP_MAC_fetch(nullptr, "HMAC", nullptr),
                                                         EVP_MAC_free);
  std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(hmac.get()),
                                                                EVP_MAC_CTX_free);
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
      OSSL_PARAM_construct_end()};
  std::array<std::uint8_t, 32> out{};
  std::size_t length = 0;
  // Lengths are fixed-width fields, so (digest, fingerprint) pairs cannot be shifted into each
  // other.
  const std::uint64_t sizes[2] = {digest_hex.size(), fingerprint.size()};
  if (ctx && EVP_MAC_init(ctx.get(), key_.data(), key_.size(), params) == 1 &&
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(sizes), sizeof sizes) == 1 &&
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(digest_hex.data()),
                     digest_hex.size()) == 1 &&
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(fingerprint.data()),
                     fingerprint.size()) == 1 &&
      EVP_MAC_update(ctx.get(), payload.data(), payload.size()) == 1 &&
      EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) == 1 && length == out.size()) {
    return out;
  }
  // A MAC that cannot be computed must never verify: a random value never matches a file.
  RAND_bytes(out.data(), static_cast<int>(out.size()));
  return out;
}

std::string PrecompiledSeal::header(std::string_view digest_hex, std::string_view fingerprint,
                                    std::span<const std::uint8_t> payload) const {
  const auto tag = mac(digest_hex, fingerprint, payload);
  std::string header(kMagic, sizeof kMagic);
  header.append(reinterpret_cast<const char*>(tag.data()), tag.size());
  return header;
}

std::optional<std::span<const std::uint8_t>> PrecompiledSeal::open_file(
    std::string_view digest_hex, std::string_view fingerprint,
    std::span<const std::uint8_t> file) const {
  if (file.size() < kHeaderSize || std::memcmp(file.data(), kMagic, sizeof kMagic) != 0)
    return std::nullopt;
  const auto payload = file.subspan(kHeaderSize);
  const auto expected = mac(digest_hex, fingerprint, payload);
  if (CRYPTO_memcmp(expected.data(), file.data() + sizeof kMagic, expected.size()) != 0)
    return std::nullopt;
  return payload;
}

}  // namespace wwp::modules
