#include "provenance/public_key.hpp"

#include <openssl/pem.h>

#include <array>

#include "common/file_bytes.hpp"

namespace wwp::provenance {

Result<PublicKey> PublicKey::from_pem(std::string_view pem, std::string name) {
  UniqueHandle<BIO, BIO_free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return failed("signature key " + name + ": out of memory");
  UniqueHandle<EVP_PKEY, EVP_PKEY_free> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return invalid("signature key " + name + ": not a PEM public key");
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_EC) {
    return invalid("signature key " + name + ": not an ECDSA key (only ECDSA P-256 is supported)");
  }
  std::array<char, 64> group{};
  std::size_t length = 0;
  if (EVP_PKEY_get_group_name(key.get(), group.data(), group.size(), &length) != 1 ||
      std::string_view(group.data(), length) != "prime256v1") {
    return invalid("signature key " + name + ": curve " + std::string(group.data(), length) +
                   " is not P-256");
  }
  return PublicKey(std::move(key), std::move(name));
}

Result<PublicKey> PublicKey::load(const std::filesystem::path& file) {
  // A PEM public key is a few hundred bytes; the bound keeps a wrong path from reading a disk.
  auto pem = read_file(file, 64 * 1024);
  if (!pem) return pem.error().context("signature key " + file.string());
  return from_pem(*pem, file.string());
}

bool PublicKey::verifies(std::string_view message, std::string_view signature) const {
  UniqueHandle<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

}  // namespace wwp::provenance
