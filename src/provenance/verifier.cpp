#include "provenance/verifier.hpp"

#include "common/base64.hpp"
#include "provenance/cosign_signature.hpp"

namespace wwp::provenance {

std::string Verifier::key_names() const {
  if (keys_.empty()) return "(none)";
  std::string names;
  for (const PublicKey& key : keys_) {
    if (!names.empty()) names += ", ";
    names += key.name();
  }
  return names;
}

Result<std::string> Verifier::verify(const Digest& manifest,
                                     const std::vector<SignedPayload>& signatures) const {
  const std::string subject = manifest.str();
  if (keys_.empty()) {
    return failed("cannot verify the signature of " + subject + ": no signature key configured");
  }
  if (signatures.empty()) {
    return failed("signature of " + subject + " not verified with key " + key_names() +
                  ": no signature found (tag " + signature_tag(manifest) + ")");
  }
  // The most telling reason among the signatures that did not verify.
  std::string reason = "its signature does not verify";
  for (const SignedPayload& signature : signatures) {
    auto decoded = base64_decode(signature.signature_base64);
    if (!decoded || decoded->empty()) {
      reason = "its signature annotation is not base64";
      continue;
    }
    const PublicKey* signer = nullptr;
    for (const PublicKey& key : keys_) {
      if (key.verifies(signature.payload, *decoded)) {
        signer = &key;
        break;
      }
    }
    if (!signer) continue;
    // A genuine signature of another manifest (copied under this tag) proves nothing here.
    auto payload = parse_payload(signature.payload);
    if (!payload) {
      reason = payload.error().message;
      continue;
    }
    if (payload->manifest != manifest) {
      reason = "its signed payload names " + payload->manifest.str();
      continue;
    }
    return signer->name();
  }
  return failed("signature of " + subject + " not verified with key " + key_names() + ": " +
                reason);
}

}  // namespace wwp::provenance
