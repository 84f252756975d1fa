#include "oci/signature_check.hpp"

#include <spdlog/spdlog.h>

#include "common/file_bytes.hpp"
#include "provenance/cosign_signature.hpp"

namespace wwp::oci {

Result<std::vector<provenance::SignedPayload>> SignatureCheck::signatures_of(const Reference& ref,
                                                                             const Digest& manifest,
                                                                             Deadline deadline) {
  std::vector<provenance::SignedPayload> out;
  auto fetched = client_.get_manifest(ref, provenance::signature_tag(manifest), deadline);
  if (!fetched) {
    if (fetched.error().kind == ErrorKind::NotFound) return out;
    return fetched.error().context("signature " + provenance::signature_tag(manifest));
  }
  const auto* image = std::get_if<ImageManifest>(&fetched->manifest);
  if (!image) return out;  // an index under the signature tag holds no signature
  for (const Descriptor& layer : image->layers) {
    const auto annotation = layer.annotations.find(std::string(provenance::kSignatureAnnotation));
    if (annotation == layer.annotations.end()) continue;
    if (layer.size > provenance::kMaxPayloadBytes) continue;  // not a simple-signing payload
    if (!store_.contains(layer.digest)) {
      WWP_TRY(client_.fetch_blob(ref, layer, store_, deadline));
    }
    auto payload = read_file(store_.path_of(layer.digest), provenance::kMaxPayloadBytes);
    if (!payload) return payload.error();
    out.push_back({std::move(*payload), annotation->second});
  }
  return out;
}

Result<Ok> SignatureCheck::check(const Reference& ref, const Digest& manifest, Deadline deadline) {
  if (!verifier_) return Ok{};
  const provenance::Policy::Decision decision = verifier_->policy().decide(ref.name());
  if (decision.mode == provenance::Mode::Off) return Ok{};
  const std::string key = ref.name() + "@" + manifest.str();
  {
    std::lock_guard lock(mutex_);
    if (verified_.contains(key)) return Ok{};
  }
  Result<std::string> verdict = failed("not checked");
  auto signatures = signatures_of(ref, manifest, deadline);
  if (signatures) {
    verdict = verifier_->verify(manifest, *signatures);
  } else {
    verdict = signatures.error();
  }
  if (verdict) {
    spdlog::info("oci: {} is signed by key {}", key, *verdict);
    std::lock_guard lock(mutex_);
    verified_.insert(key);
    return Ok{};
  }
  if (decision.mode == provenance::Mode::Warn) {
    spdlog::warn("oci: {}: {} (signature policy warn for {}: running it anyway)", key,
                 verdict.error().message, decision.rule);
    return Ok{};
  }
  // Unreachable registry: the agent retries (503); anything else fails the step.
  if (verdict.error().transient()) return verdict.error();
  return failed(verdict.error().message + " (signature policy require for " + decision.rule + ")");
}

}  // namespace wwp::oci
