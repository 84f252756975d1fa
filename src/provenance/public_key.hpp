// The operator's signature keys: PEM public keys (SubjectPublicKeyInfo, what `cosign
// generate-key-pair` writes to cosign.pub), ECDSA on P-256 only.
#pragma once

#include <openssl/evp.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "common/unique_handle.hpp"

namespace wwp::provenance {

class PublicKey {
 public:
  // `name` is how messages refer to the key (its file path when loaded from a file).
  static Result<PublicKey> from_pem(std::string_view pem, std::string name);
  static Result<PublicKey> load(const std::filesystem::path& file);

  const std::string& name() const { return name_; }
  // Whether `signature` (ASN.1 DER ECDSA) signs SHA-256(`message`) with this key.
  bool verifies(std::string_view message, std::string_view signature) const;

 private:
  PublicKey(UniqueHandle<EVP_PKEY, EVP_PKEY_free> key, std::string name)
      : key_(std::move(key)), name_(std::move(name)) {}
  UniqueHandle<EVP_PKEY, EVP_PKEY_free> key_;
  std::string name_;
};

}  // namespace wwp::provenance
