// Module provenance for OCI modules: before a module is pulled, the signatures stored under the
// cosign tag `sha256-<manifest hex>.sig` in its repository are fetched and verified
// (provenance::Verifier), as the policy for its registry/repository asks.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "common/deadline.hpp"
#include "common/digest.hpp"
#include "common/result.hpp"
#include "oci/reference.hpp"
#include "oci/registry_client.hpp"
#include "provenance/verifier.hpp"
#include "store/blob_store.hpp"

namespace wwp::oci {

class SignatureCheck {
 public:
  // `verifier` may be null: nothing is checked.
  SignatureCheck(std::shared_ptr<const provenance::Verifier> verifier, RegistryClient& client,
                 const store::BlobStore& store)
      : verifier_(std::move(verifier)), client_(client), store_(store) {}

  // Ok when the module at `manifest` may run: policy off, a verified signature, or policy warn
  // (the failure is logged). Under require a failure is Failed, naming digest, keys and reason;
  // a registry that cannot be reached is Transient. Verified digests are remembered.
  Result<Ok> check(const Reference& ref, const Digest& manifest, Deadline deadline);

 private:
  // The signature manifest's layers (payload + annotation); empty when there is no such tag.
  Result<std::vector<provenance::SignedPayload>> signatures_of(const Reference& ref,
                                                               const Digest& manifest,
                                                               Deadline deadline);

  std::shared_ptr<const provenance::Verifier> verifier_;
  RegistryClient& client_;
  const store::BlobStore& store_;
  std::mutex mutex_;
  std::unordered_set<std::string> verified_;  // "registry/repo@sha256:..."
};

}  // namespace wwp::oci
