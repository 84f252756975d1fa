// Modules named by `module: {url: ..., sha256: ...}`: downloaded once into the content-addressed
// blob store (hashed while written, committed only when the digest matches); a digest already
// present is never downloaded again.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/deadline.hpp"
#include "common/result.hpp"
#include "modules/module_source.hpp"
#include "net/http.hpp"
#include "net/retry.hpp"
#include "store/blob_store.hpp"

namespace wwp::modules {

struct UrlSettings {
  std::uint64_t max_bytes = 256ULL << 20;
  std::chrono::milliseconds timeout{60000};  // one download attempt, redirects included
  net::RetryPolicy retry{.max_attempts = 3, .initial_backoff = std::chrono::milliseconds(400)};
  int max_redirects = 5;
  net::TransportOptions transport;
};

class UrlSource : public ModuleSource {
 public:
  UrlSource(store::BlobStore& store, UrlSettings settings,
            net::Client& client = net::default_client());

  Result<FetchedModule> fetch(const model::ModuleRef& ref, Deadline deadline) override;

  // The module at `url` whose SHA-256 must be `expected`. Holds a lease on the blob (returned in
  // the result) and the store's fetch lock while downloading, so concurrent steps and processes
  // download a digest once and nobody evicts it before it is compiled.
  Result<FetchedModule> fetch(const std::string& url, const Digest& expected,
                              Deadline deadline = kNoDeadline);

 private:
  net::Attempt<Ok> download(const std::string& url, const Digest& expected, Deadline deadline);

  store::BlobStore& store_;
  UrlSettings settings_;
  net::Client& client_;
};

}  // namespace wwp::modules
