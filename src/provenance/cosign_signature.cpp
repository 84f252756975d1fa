#include "provenance/cosign_signature.hpp"

#include <nlohmann/json.hpp>

namespace wwp::provenance {

using Json = nlohmann::json;

std::string signature_tag(const Digest& manifest) { return "sha256-" + manifest.hex + ".sig"; }

Result<SimpleSigning> parse_payload(std::string_view payload) {
  const Json json = Json::parse(payload, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return failed("signature payload is not JSON");
  const auto critical = json.find("critical");
  if (critical == json.end() || !critical->is_object()) {
    return failed("signature payload has no \"critical\" object");
  }
  const auto type = critical->find("type");
  if (type == critical->end() || !type->is_string() || *type != kSignatureType) {
    return failed("signature payload: critical.type is not \"" + std::string(kSignatureType) +
                  "\"");
  }
  SimpleSigning out;
  const Json* image = nullptr;
  if (auto it = critical->find("image"); it != critical->end() && it->is_object()) image = &*it;
  const Json* digest = nullptr;
  if (image) {
    if (auto it = image->find("docker-manifest-digest"); it != image->end() && it->is_string()) {
      digest = &*it;
    }
  }
  if (!digest) return failed("signature payload has no critical.image.docker-manifest-digest");
  auto parsed = parse_digest(digest->get<std::string>());
  if (!parsed || !digest->get<std::string>().starts_with("sha256:")) {
    return failed(
        "signature payload: critical.image.docker-manifest-digest is not a sha256 digest");
  }
  out.manifest = *parsed;
  if (auto identity = critical->find("identity");
      identity != critical->end() && identity->is_object()) {
    if (auto ref = identity->find("docker-reference"); ref != identity->end() && ref->is_string()) {
      out.docker_reference = ref->get<std::string>();
    }
  }
  return out;
}

std::string make_payload(std::string_view docker_reference, const Digest& manifest) {
  const Json payload = {{"critical",
                         {{"identity", {{"docker-reference", docker_reference}}},
                          {"image", {{"docker-manifest-digest", manifest.str()}}},
                          {"type", kSignatureType}}},
                        {"optional", nullptr}};
  return payload.dump();
}

}  // namespace wwp::provenance
