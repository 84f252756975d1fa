#include "oci/registry_client.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/text.hpp"
#include "net/retry.hpp"
#include "net/url.hpp"
#include "oci/media_types.hpp"

namespace wwp::oci {

using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Registries: retry quickly at first (100 ms doubling to 2 s) for as long as the pull's time
// budget allows.
const net::RetryPolicy kRegistryRetry{.max_attempts = 0,
                                      .initial_backoff = std::chrono::milliseconds(100),
                                      .max_backoff = std::chrono::milliseconds(2000)};

std::string host_part(std::string_view host_port) {
  if (host_port.starts_with("[")) {
    return std::string(host_port.substr(0, host_port.find(']') + 1));
  }
  return std::string(host_port.substr(0, host_port.find(':')));
}

std::string bytes_text(std::uint64_t bytes) { return std::to_string(bytes) + " bytes"; }

}  // namespace

std::string registry_error_text(const net::Response& response) {
  Json body = Json::parse(response.body, nullptr, false);
  std::string text;
  if (body.is_object()) {
    if (auto errors = body.find("errors"); errors != body.end() && errors->is_array()) {
      for (const Json& error : *errors) {
        if (!error.is_object()) continue;
        std::string item;
        if (auto code = error.find("code"); code != error.end() && code->is_string()) {
          item = code->get<std::string>();
        }
        if (auto message = error.find("message"); message != error.end() && message->is_string()) {
          item += (item.empty() ? "" : ": ") + message->get<std::string>();
        }
        if (!item.empty()) text += (text.empty() ? "" : "; ") + item;
      }
    }
  }
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  if (text.empty()) text = "HTTP " + std::to_string(response.status);
  return text;
}

RegistryClient::RegistryClient(ClientOptions options)
    : options_(std::move(options)),
      auth_(http_, AuthOptions{options_.credentials, transport_options(options_, kNoDeadline),
                               options_.user_agent,
                               [this](std::string_view host) { return is_insecure(host); }}) {}

bool RegistryClient::is_insecure(std::string_view registry) const {
  const std::string host = normalize_registry_host(registry);
  for (const std::string& raw : options_.insecure_registries) {
    const std::string entry = normalize_registry_host(raw);
    if (entry.empty()) continue;
    if (entry == host) return true;
    // "myhost" (no port) covers every port of myhost.
    const bool entry_has_port = host_part(entry) != entry;
    if (!entry_has_port && host_part(host) == entry) return true;
  }
  return false;
}

std::string RegistryClient::base_url(const std::string& registry) const {
  return (is_insecure(registry) ? "http://" : "https://") + registry;
}

std::string RegistryClient::api_url(const Reference& ref, std::string_view path) const {
  return base_url(ref.registry) + "/v2/" + ref.repository + "/" + std::string(path);
}

net::Request RegistryClient::base_request(const Reference& ref, Deadline deadline,
                                          bool streaming) const {
  using std::chrono::milliseconds;
  net::Request request;
  request.https_only = !is_insecure(ref.registry);
  request.max_redirects = 10;
  request.transport = transport_options(options_, deadline);
  request.headers.push_back("User-Agent: " + options_.user_agent);
  // Blobs may legitimately take longer than the budget; they are bounded by the stall limit.
  if (!streaming) {
    request.deadline =
        deadline_in(std::clamp(remaining(deadline), milliseconds(1000), milliseconds(30000)));
  }
  return request;
}

net::TransportOptions transport_options(const ClientOptions& options, Deadline deadline) {
  using std::chrono::milliseconds;
  net::TransportOptions transport;
  transport.ca_file = options.ca_file;
  transport.connect_timeout =
      std::clamp(remaining(deadline), milliseconds(500), milliseconds(5000));
  // Large blobs may take long; a transfer that stalls below 1 KiB/s for 30 s is dead.
  transport.stall_bytes_per_second = 1024;
  transport.stall_timeout = std::chrono::seconds(30);
  return transport;
}

Error RegistryClient::status_error(const Reference& ref, const net::Response& response,
                                   std::string_view what) const {
  const std::string detail = registry_error_text(response);
  if (response.status == 403) {
    return failed("registry " + ref.registry + " denied access to " + ref.repository + " (" +
                  detail + ")");
  }
  if (response.status == 404) return not_found(std::string(what) + " not found (" + detail + ")");
  return failed(std::string(what) + ": registry " + ref.registry + " answered HTTP " +
                std::to_string(response.status) + " (" + detail + ")");
}

Result<net::Response> RegistryClient::call(
    const Reference& ref, Access access, const std::function<Result<net::Request>()>& make_request,
    Deadline deadline) {
  using Attempt = net::Attempt<net::Response>;
  const std::string scope =
      "repository:" + ref.repository + (access == Access::Push ? ":pull,push" : ":pull");
  std::optional<std::string> authorization;
  bool answered_challenge = false;
  int truncated = 0;
  return net::with_retries<net::Response>(kRegistryRetry, deadline, [&]() -> Attempt {
    for (;;) {  // answering a 401 challenge is not a retry: it goes again at once
      auto request = make_request();
      if (!request) return Attempt::done(request.error());
      // Only ever send registry credentials to the registry itself (upload locations may point
      // elsewhere; the client drops them on redirects to other hosts).
      if (net::url_host(request->url) == to_lower(ref.registry)) {  // url_host lowercases
        std::optional<std::string> header =
            authorization ? authorization : auth_.cached(ref.registry, scope);
        if (header) request->headers.push_back("Authorization: " + *header);
      }
      const auto started = std::chrono::steady_clock::now();
      net::Outcome result = http_.perform(*request);
      spdlog::debug("oci: {} {} -> {} ({} ms)", request->method, request->url,
                    result.ok() ? std::to_string(result.response.status) : result.message,
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count());
      if (!result.ok()) {
        switch (result.failure) {
          case net::Failure::Aborted:
            return Attempt::done(*result.aborted);
          case net::Failure::Tls:
            return Attempt::done(
                failed("TLS with registry " + ref.registry + " failed: " + result.message +
                       (options_.ca_file ? "" : " (is the registry's CA configured?)")));
          case net::Failure::Truncated: {
            // Usually a dropped connection: worth another try, but not forever.
            Error problem =
                failed("registry " + ref.registry + ": truncated transfer: " + result.message);
            if (++truncated >= 3) return Attempt::done(problem);
            return Attempt::again(problem);
          }
          case net::Failure::Unreachable:
          case net::Failure::Timeout:
            return Attempt::again(
                failed("registry " + ref.registry + " unreachable: " + result.message));
          default:
            return Attempt::done(
                failed("request to registry " + ref.registry + " failed: " + result.message));
        }
      }
      const long status = result.response.status;
      if (status == 401) {
        if (answered_challenge) {
          return Attempt::done(failed("registry " + ref.registry + " denied access to " +
                                      ref.repository +
                                      ": it does not exist or needs other credentials (" +
                                      registry_error_text(result.response) + ")"));
        }
        auto header = auth_.respond(ref.registry, scope, result.response, deadline);
        if (header) {
          authorization = std::move(*header);
          answered_challenge = true;
          continue;
        }
        // The token service is down: retry like the registry.
        if (header.error().transient()) return Attempt::again(header.error());
        return Attempt::done(header.error());
      }
      if (net::transient_status(status)) {
        spdlog::debug("oci: {} answered HTTP {}", ref.registry, status);
        return Attempt::again(
            failed("registry " + ref.registry + " answered HTTP " + std::to_string(status) + " (" +
                   registry_error_text(result.response) + ")"),
            result.response.retry_after());
      }
      return Attempt::done(std::move(result.response));
    }
  });
}

Result<Digest> RegistryClient::resolve(const Reference& ref, Deadline deadline) {
  auto response = call(
      ref, Access::Pull,
      [&]() -> Result<net::Request> {
        net::Request request = base_request(ref, deadline, false);
        request.method = "HEAD";
        request.url = api_url(ref, "manifests/" + ref.manifest_reference());
        request.headers.push_back("Accept: " + std::string(media::kManifestAccept));
        return request;
      },
      deadline);
  if (!response) return response.error();
  if (response->status == 404) return not_found("module " + ref.str() + " not found");
  if (response->status == 200) {
    if (auto header = response->header("docker-content-digest")) {
      if (auto digest = parse_digest(*header)) return *digest;
    }
    // No usable digest header: fetch the manifest and hash it ourselves.
    auto manifest = get_manifest(ref, ref.manifest_reference(), deadline);
    if (!manifest) return manifest.error();
    return manifest->digest;
  }
  return status_error(ref, *response, "module " + ref.str());
}

Result<FetchedManifest> RegistryClient::get_manifest(const Reference& ref,
                                                     const std::string& tag_or_digest,
                                                     Deadline deadline) {
  auto response = call(
      ref, Access::Pull,
      [&]() -> Result<net::Request> {
        net::Request request = base_request(ref, deadline, false);
        request.url = api_url(ref, "manifests/" + tag_or_digest);
        request.headers.push_back("Accept: " + std::string(media::kManifestAccept));
        request.max_body_bytes = options_.max_manifest_bytes;
        return request;
      },
      deadline);
  const std::string what = "manifest " + tag_or_digest + " of " + ref.name();
  if (!response) return response.error().context(what);
  if (response->status == 404) return not_found("module " + ref.str() + " not found");
  if (response->status != 200) return status_error(ref, *response, what);

  FetchedManifest fetched;
  fetched.bytes = std::move(response->body);
  fetched.content_type = response->header("content-type").value_or("");
  fetched.digest = sha256_of(fetched.bytes);
  if (auto expected = parse_digest(tag_or_digest); expected && *expected != fetched.digest) {
    return failed(what + ": digest mismatch: expected " + expected->str() + ", got " +
                  fetched.digest.str());
  }
  auto manifest = parse_manifest(fetched.bytes, fetched.content_type);
  if (!manifest) return manifest.error().context(what);
  fetched.manifest = std::move(*manifest);
  return fetched;
}

Result<Ok> RegistryClient::fetch_blob(const Reference& ref, const Descriptor& blob,
                                      const store::BlobStore& store, Deadline deadline) {
  const std::string what = "blob " + blob.digest.str() + " of " + ref.name();
  if (blob.size > options_.max_blob_bytes) {
    return failed(what + " is " + bytes_text(blob.size) + ", more than the limit of " +
                  bytes_text(options_.max_blob_bytes));
  }
  struct State {
    std::optional<store::BlobStore::Writer> writer;
  };
  auto state = std::make_shared<State>();
  const std::uint64_t expected_size = blob.size;
  auto response = call(
      ref, Access::Pull,
      [&]() -> Result<net::Request> {
        state->writer.reset();  // a retry starts from an empty file
        auto writer = store.writer();
        if (!writer) return writer.error();
        state->writer.emplace(std::move(*writer));
        net::Request request = base_request(ref, deadline, true);
        request.url = api_url(ref, "blobs/" + blob.digest.str());
        request.sink = [state, expected_size, what](std::string_view chunk) -> Result<Ok> {
          if (state->writer->size() + chunk.size() > expected_size) {
            return failed(what + ": registry sent more than the " + bytes_text(expected_size) +
                          " the manifest states");
          }
          return state->writer->write(chunk);
        };
        return request;
      },
      deadline);
  if (!response) return response.error().context(what);
  if (response->status != 200) {
    Error error = status_error(ref, *response, what);
    // A manifest naming a blob the registry lacks is a broken module, not a missing one.
    if (error.kind == ErrorKind::NotFound) error.kind = ErrorKind::Failed;
    return error;
  }
  if (state->writer->size() != expected_size) {
    return failed(what + ": truncated transfer: got " + bytes_text(state->writer->size()) + " of " +
                  bytes_text(expected_size));
  }
  auto committed = state->writer->commit(blob.digest);
  if (!committed) return committed.error().context(what);
  return Ok{};
}

Result<bool> RegistryClient::blob_exists(const Reference& ref, const Digest& digest,
                                         Deadline deadline) {
  auto response = call(
      ref, Access::Push,
      [&]() -> Result<net::Request> {
        net::Request request = base_request(ref, deadline, false);
        request.method = "HEAD";
        request.url = api_url(ref, "blobs/" + digest.str());
        return request;
      },
      deadline);
  if (!response) return response.error();
  if (response->status == 200) return true;
  if (response->status == 404) return false;
  return status_error(ref, *response, "blob " + digest.str() + " of " + ref.name());
}

Result<Ok> RegistryClient::upload_blob(const Reference& ref, std::string_view bytes,
                                       const Digest& digest, Deadline deadline) {
  const std::string what = "upload of blob " + digest.str() + " to " + ref.name();
  auto opened = call(
      ref, Access::Push,
      [&]() -> Result<net::Request> {
        net::Request request = base_request(ref, deadline, false);
        request.method = "POST";
        request.url = api_url(ref, "blobs/uploads/");
        return request;
      },
      deadline);
  if (!opened) return opened.error().context(what);
  if (opened->status != 202) return status_error(ref, *opened, what);
  auto location = opened->header("location");
  if (!location || location->empty()) return failed(what + ": registry sent no upload location");
  std::string url = *location;
  if (url.starts_with("/")) url = base_url(ref.registry) + url;
  url += (url.find('?') == std::string::npos ? "?" : "&");
  url += "digest=" + net::percent_encode(digest.str());

  auto put = call(
      ref, Access::Push,
      [&]() -> Result<net::Request> {
        net::Request request = base_request(ref, deadline, false);
        request.method = "PUT";
        request.url = url;
        request.body = net::Body::from_string(std::string(bytes));
        request.deadline = kNoDeadline;  // bounded by the stall limit instead
        request.headers.push_back("Content-Type: application/octet-stream");
        return request;
      },
      deadline);
  if (!put) return put.error().context(what);
  if (put->status != 201 && put->status != 204) return status_error(ref, *put, what);
  return Ok{};
}

Result<Digest> RegistryClient::put_manifest(const Reference& ref, const std::string& tag_or_digest,
                                            std::string_view bytes, std::string_view media_type,
                                            Deadline deadline) {
  const std::string what = "push of manifest " + ref.name() + ":" + tag_or_digest;
  auto response = call(
      ref, Access::Push,
      [&]() -> Result<net::Request> {
        net::Request request = base_request(ref, deadline, false);
        request.method = "PUT";
        request.url = api_url(ref, "manifests/" + tag_or_digest);
        request.body = net::Body::from_string(std::string(bytes));
        request.headers.push_back("Content-Type: " + std::string(media_type));
        return request;
      },
      deadline);
  if (!response) return response.error().context(what);
  if (response->status != 201 && response->status != 200) return status_error(ref, *response, what);
  const Digest ours = sha256_of(bytes);
  if (auto header = response->header("docker-content-digest")) {
    if (auto digest = parse_digest(*header)) {
      if (*digest != ours) {
        return failed(what + ": registry stored digest " + digest->str() + " but we sent " +
                      ours.str());
      }
    }
  }
  return ours;
}

}  // namespace wwp::oci
