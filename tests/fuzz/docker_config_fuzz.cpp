// Docker config JSON (`.dockerconfigjson` of an image-pull secret, ~/.docker/config.json).
#include "fuzz_check.hpp"
#include "oci/docker_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto store =
      wwp::oci::CredentialStore::from_docker_config(wwp::fuzz::as_text(data, size), "fuzz input");
  if (!store) {
    WWP_FUZZ_CHECK(!store.error().message.empty(), "an error without a message");
    return 0;
  }
  for (const char* host : {"registry-1.docker.io", "ghcr.io", "localhost:5000", ""}) {
    (void)store->find(host);
  }
  return 0;
}
