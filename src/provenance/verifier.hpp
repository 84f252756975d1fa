// The decision for one module: the policy's mode for its repository, and whether one of its
// signatures was made by one of the operator's keys over a payload naming its manifest digest.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.hpp"
#include "common/result.hpp"
#include "provenance/policy.hpp"
#include "provenance/public_key.hpp"

namespace wwp::provenance {

// One layer of a signature manifest: the payload bytes and the annotation's base64 signature.
struct SignedPayload {
  std::string payload;
  std::string signature_base64;
};

class Verifier {
 public:
  Verifier(Policy policy, std::vector<PublicKey> keys)
      : policy_(std::move(policy)), keys_(std::move(keys)) {}

  const Policy& policy() const { return policy_; }
  const std::vector<PublicKey>& keys() const { return keys_; }
  // "a.pub" or "a.pub, b.pub"; "(none)" without keys.
  std::string key_names() const;

  // The name of the key that verified a signature of `manifest`. Failures (Failed) name the
  // digest and the keys tried and say why: no signatures, payload for another digest, malformed
  // payload, signature not made by any key.
  Result<std::string> verify(const Digest& manifest,
                             const std::vector<SignedPayload>& signatures) const;

 private:
  Policy policy_;
  std::vector<PublicKey> keys_;
};

}  // namespace wwp::provenance
