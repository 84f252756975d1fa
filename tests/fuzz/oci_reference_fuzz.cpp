// OCI references as template authors write them (`module: {oci: ...}`). A parsed reference must
// print as text that parses back to the same reference.
#include <string>

#include "fuzz_check.hpp"
#include "oci/reference.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = wwp::fuzz::as_text(data, size);
  (void)wwp::oci::normalize_registry_host(text);
  auto reference = wwp::oci::parse_reference(text);
  if (!reference) return 0;
  WWP_FUZZ_CHECK(!reference->registry.empty() && !reference->repository.empty(),
                 "a reference without registry or repository");
  WWP_FUZZ_CHECK(!reference->manifest_reference().empty(), "nothing to ask the registry for");
  auto again = wwp::oci::parse_reference(reference->str());
  WWP_FUZZ_CHECK(again, "str() does not parse back");
  WWP_FUZZ_CHECK(again->registry == reference->registry &&
                     again->repository == reference->repository && again->tag == reference->tag &&
                     again->digest == reference->digest,
                 "str() parses back to a different reference");
  return 0;
}
