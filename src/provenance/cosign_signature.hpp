// Cosign's signature format, as `cosign sign --key` stores it without a transparency log: the
// signatures of manifest sha256:<hex> live in the same repository under the tag
// `sha256-<hex>.sig`, an OCI image manifest with one layer per signature. Each layer is a
// "simple signing" JSON payload naming the signed manifest digest, and carries the base64 ASN.1
// ECDSA signature of that payload in an annotation.
#pragma once

#include <string>
#include <string_view>

#include "common/digest.hpp"
#include "common/result.hpp"

namespace wwp::provenance {

inline constexpr std::string_view kSignatureAnnotation = "dev.cosignproject.cosign/signature";
inline constexpr std::string_view kPayloadMediaType =
    "application/vnd.dev.cosign.simplesigning.v1+json";
inline constexpr std::string_view kSignatureType = "cosign container image signature";
// A payload is a few hundred bytes; anything far larger is not one.
inline constexpr std::uint64_t kMaxPayloadBytes = 64 * 1024;

// "sha256-<hex>.sig"
std::string signature_tag(const Digest& manifest);

struct SimpleSigning {
  std::string docker_reference;  // the repository the signer named
  Digest manifest;               // what was signed
};

// Parses {"critical":{"identity":{"docker-reference":...},"image":{"docker-manifest-digest":
// "sha256:..."},"type":"cosign container image signature"},"optional":...}.
Result<SimpleSigning> parse_payload(std::string_view payload);
// The payload cosign writes for `docker_reference` at `manifest` (for tests and tools).
std::string make_payload(std::string_view docker_reference, const Digest& manifest);

}  // namespace wwp::provenance
