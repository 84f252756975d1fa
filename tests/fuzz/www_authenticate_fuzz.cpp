// `WWW-Authenticate` headers from a registry's 401 answers.
#include <cctype>

#include "fuzz_check.hpp"
#include "oci/www_authenticate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const auto& challenge : wwp::oci::parse_www_authenticate(wwp::fuzz::as_text(data, size))) {
    for (char c : challenge.scheme) {
      WWP_FUZZ_CHECK(!std::isupper(static_cast<unsigned char>(c)), "scheme not lowercased");
    }
    for (const auto& [name, value] : challenge.params) {
      WWP_FUZZ_CHECK(challenge.param(name) == value, "param() disagrees with params");
    }
    (void)challenge.param("realm");
  }
  return 0;
}
