#include "fake_registry.hpp"

#include "oci/media_types.hpp"
#include "oci/push.hpp"
#include "store/blob_store.hpp"

namespace wwp::oci::test {

FakeRegistry::FakeRegistry() {
  server_.Get("/v2/", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("{}", "application/json");
  });
  server_.Get(R"(/v2/(.+)/manifests/([^/]+))",
              [this](const httplib::Request& request, httplib::Response& response) {
                bump(request.method + " manifest");
                if (inject_failure(response)) return;
                const std::string repo = request.matches[1];
                const std::string reference = request.matches[2];
                std::lock_guard lock(mutex_);
                std::string hex;
                if (reference.starts_with("sha256:")) {
                  hex = reference.substr(7);
                } else if (auto tag = tags_.find(repo + ":" + reference); tag != tags_.end()) {
                  hex = tag->second;
                }
                auto it = manifests_.find(repo + "@sha256:" + hex);
                if (hex.empty() || it == manifests_.end()) {
                  response.status = 404;
                  response.set_content(
                      R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})",
                      "application/json");
                  return;
                }
                if (!omit_digest_header_)
                  response.set_header("Docker-Content-Digest", "sha256:" + hex);
                response.set_content(it->second.bytes, it->second.media_type.c_str());
              });
  server_.Get(R"(/v2/(.+)/blobs/sha256:([0-9a-f]{64}))", [this](const httplib::Request& request,
                                                                httplib::Response& response) {
    bump(request.method + " blob");
    if (inject_failure(response)) return;
    if (blob_delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(blob_delay_ms_));
    std::string bytes;
    {
      std::lock_guard lock(mutex_);
      auto it = blobs_.find(request.matches[2]);
      if (it == blobs_.end()) {
        response.status = 404;
        response.set_content(R"({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]})",
                             "application/json");
        return;
      }
      bytes = it->second;
    }
    if (truncate_blobs_) {
      // Promise the full length, send half, then drop the connection.
      auto shared = std::make_shared<std::string>(std::move(bytes));
      response.set_content_provider(shared->size(), "application/octet-stream",
                                    [shared](std::size_t, std::size_t, httplib::DataSink& sink) {
                                      sink.write(shared->data(), shared->size() / 2);
                                      return false;
                                    });
      return;
    }
    if (const int pause = slow_pause_ms_; pause > 0) {
      auto shared = std::make_shared<std::string>(std::move(bytes));
      response.set_content_provider(
          shared->size(), "application/octet-stream",
          [shared, pause](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
            std::this_thread::sleep_for(std::chrono::milliseconds(pause));
            return sink.write(shared->data() + offset, std::min<std::size_t>(length, 16384));
          });
      return;
    }
    response.set_content(bytes, "application/octet-stream");
  });
  // Short keep-alive: stop() waits for idle client connections (our client pools them).
  server_.set_keep_alive_timeout(1);
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeRegistry::~FakeRegistry() { stop(); }

void FakeRegistry::stop() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string FakeRegistry::put_blob(const std::string& bytes) {
  const std::string hex = sha256_of(bytes).hex;
  std::lock_guard lock(mutex_);
  blobs_[hex] = bytes;
  return hex;
}

std::string FakeRegistry::put_manifest(const std::string& repo, const std::string& tag,
                                       const std::string& bytes, const std::string& media_type) {
  const std::string hex = sha256_of(bytes).hex;
  std::lock_guard lock(mutex_);
  manifests_[repo + "@sha256:" + hex] = {bytes, media_type};
  if (!tag.empty()) tags_[repo + ":" + tag] = hex;
  return hex;
}

std::string FakeRegistry::put_module(const std::string& repo, const std::string& tag,
                                     const std::string& wasm) {
  PushOptions options;
  options.created = "2024-01-01T00:00:00Z";
  const Artifact artifact = build_artifact(wasm, options);
  put_blob(wasm);
  put_blob(artifact.config);
  return put_manifest(repo, tag, artifact.manifest, std::string(media::kOciManifest));
}

void FakeRegistry::remove_tag(const std::string& repo, const std::string& tag) {
  std::lock_guard lock(mutex_);
  tags_.erase(repo + ":" + tag);
}

void FakeRegistry::serve_blob_as(const std::string& hex, const std::string& bytes) {
  std::lock_guard lock(mutex_);
  blobs_[hex] = bytes;
}

void FakeRegistry::fail_next(int count, int status, std::optional<int> retry_after_seconds) {
  std::lock_guard lock(mutex_);
  failures_left_ = count;
  failure_status_ = status;
  retry_after_ = retry_after_seconds;
}

bool FakeRegistry::inject_failure(httplib::Response& response) {
  std::lock_guard lock(mutex_);
  if (failures_left_ <= 0) return false;
  --failures_left_;
  response.status = failure_status_;
  if (retry_after_) response.set_header("Retry-After", std::to_string(*retry_after_));
  response.set_content(R"({"errors":[{"code":"UNAVAILABLE","message":"injected failure"}]})",
                       "application/json");
  return true;
}

void FakeRegistry::bump(const std::string& kind) {
  std::lock_guard lock(mutex_);
  ++counts_[kind];
}

int FakeRegistry::count(const std::string& kind) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(kind);
  return it == counts_.end() ? 0 : it->second;
}

void FakeRegistry::reset_counts() {
  std::lock_guard lock(mutex_);
  counts_.clear();
}

}  // namespace wwp::oci::test
