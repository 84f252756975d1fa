// The distribution API calls the plugin makes: resolve a tag, fetch manifests and blobs (verified
// while streaming), and push. Every call authenticates on demand and retries an unreachable or
// overloaded registry (connection errors, 5xx, 429) within the caller's time budget.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/deadline.hpp"
#include "common/digest.hpp"
#include "common/result.hpp"
#include "net/http.hpp"
#include "oci/auth.hpp"
#include "oci/docker_config.hpp"
#include "oci/manifest.hpp"
#include "oci/reference.hpp"
#include "store/blob_store.hpp"

namespace wwp::oci {

struct ClientOptions {
  // host[:port] entries reached over plain HTTP; an entry without port matches every port.
  std::vector<std::string> insecure_registries;
  std::optional<std::filesystem::path> ca_file;
  CredentialStore credentials;
  std::uint64_t max_blob_bytes = 256ull << 20;
  std::uint64_t max_manifest_bytes = 4ull << 20;
  std::string user_agent = "wasm-workflows-plugin";
};

// TLS, timeouts and stall limit for registry traffic; the connect timeout shrinks with the
// deadline.
net::TransportOptions transport_options(const ClientOptions& options, Deadline deadline);

struct FetchedManifest {
  std::string bytes;
  std::string content_type;
  Digest digest;  // sha256 of `bytes`
  Manifest manifest;
};

class RegistryClient {
 public:
  explicit RegistryClient(ClientOptions options);
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  const ClientOptions& options() const { return options_; }
  bool is_insecure(std::string_view registry) const;
  std::string base_url(const std::string& registry) const;

  // The digest `ref`'s tag points to now (HEAD; GET if the registry sends no digest header).
  Result<Digest> resolve(const Reference& ref, Deadline deadline);
  // A manifest by tag or digest ("sha256:..."); by digest, the bytes are verified against it.
  Result<FetchedManifest> get_manifest(const Reference& ref, const std::string& tag_or_digest,
                                       Deadline deadline);
  // Streams a blob into the store, checking size limit, descriptor size and digest on the way;
  // nothing is stored unless all hold.
  Result<Ok> fetch_blob(const Reference& ref, const Descriptor& blob, const store::BlobStore& store,
                        Deadline deadline);

  Result<bool> blob_exists(const Reference& ref, const Digest& digest, Deadline deadline);
  // POST to open an upload session, then PUT the bytes with the digest (monolithic upload).
  Result<Ok> upload_blob(const Reference& ref, std::string_view bytes, const Digest& digest,
                         Deadline deadline);
  // Returns the digest the registry reports (or ours when it reports none).
  Result<Digest> put_manifest(const Reference& ref, const std::string& tag_or_digest,
                              std::string_view bytes, std::string_view media_type,
                              Deadline deadline);

 private:
  enum class Access { Pull, Push };
  // One API call: adds auth, answers 401 challenges once, retries transient failures (the rule
  // of net/retry.hpp) until the deadline. `make_request` is called per attempt (so a streaming sink
  // can start over).
  Result<net::Response> call(const Reference& ref, Access access,
                             const std::function<Result<net::Request>()>& make_request,
                             Deadline deadline);
  net::Request base_request(const Reference& ref, Deadline deadline, bool streaming) const;
  std::string api_url(const Reference& ref, std::string_view path) const;
  Error status_error(const Reference& ref, const net::Response& response,
                     std::string_view what) const;

  ClientOptions options_;
  net::Client http_;
  Authenticator auth_;
};

// The registry's error message for an HTTP error response: "CODE: message" from its JSON errors
// list, or the status line. Never includes request headers.
std::string registry_error_text(const net::Response& response);

}  // namespace wwp::oci
