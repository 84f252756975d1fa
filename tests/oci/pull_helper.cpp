// A second plugin process for the tests: pulls one reference into a cache directory.
// Usage: oci_pull_helper CACHE_DIR INSECURE_HOST REFERENCE
#include <cstdio>

#include "oci/module_source.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s CACHE_DIR INSECURE_HOST REFERENCE\n", argv[0]);
    return 2;
  }
  wwp::oci::OciSettings settings;
  settings.cache_dir = argv[1];
  settings.insecure_registries = {argv[2]};
  settings.time_budget = std::chrono::seconds(20);
  wwp::oci::OciModuleSource source(settings);
  auto fetched = source.fetch(argv[3], wwp::model::PullPolicy::IfNotPresent);
  if (!fetched) {
    std::fprintf(stderr, "%s\n", fetched.error().message.c_str());
    return 1;
  }
  std::printf("%s blob_fetches=%llu\n", fetched->digest.str().c_str(),
              static_cast<unsigned long long>(source.stats().blob_fetches));
  return 0;
}
