// SHA-256 digests, the one way the plugin names content: blobs, module pins, step keys, S3
// payload hashes. Backed by OpenSSL's EVP interface.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace wwp {

struct Digest {
  std::string hex;  // 64 lowercase hex digits of SHA-256

  std::string str() const { return "sha256:" + hex; }
  bool operator==(const Digest&) const = default;
};

// Parses "sha256:<hex>" or a bare hex digest (64 lowercase hex digits).
std::optional<Digest> parse_digest(std::string_view text);
Digest sha256_of(std::string_view bytes);

// Incremental SHA-256, for bytes that arrive in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  Digest finish();  // the hasher is spent afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wwp
