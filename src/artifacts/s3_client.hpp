// A small S3 client: GET/PUT objects between the repository and files, multipart upload for large
// files, and prefix listing (argoexec stores un-archived directories as one object per file).
// Requests are signed by libcurl (CURLOPT_AWS_SIGV4); nothing here computes signatures.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/deadline.hpp"
#include "common/result.hpp"
#include "net/http.hpp"
#include "net/retry.hpp"

namespace wwp::artifacts {

struct S3Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;

  bool anonymous() const { return access_key.empty() && secret_key.empty(); }
};

enum class S3Addressing {
  Auto,         // virtual-host for AWS endpoints and DNS-safe buckets, path-style elsewhere
  Path,         // http(s)://endpoint/bucket/key
  VirtualHost,  // http(s)://bucket.endpoint/key
};

struct S3Endpoint {
  std::string host;  // "host" or "host:port", as Argo's `endpoint`; a scheme prefix is accepted
  bool secure = true;
  std::string region = "us-east-1";
  S3Addressing addressing = S3Addressing::Auto;
};

struct S3ClientOptions {
  net::RetryPolicy retry;
  // Files larger than this go up in parts of this size (S3 needs parts of at least 5 MiB and at
  // most 10,000 of them; the size is raised as needed to stay within both).
  std::uint64_t part_size = 64ULL << 20;
  net::TransportOptions transfer;
};

struct S3ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
};

class S3Client {
 public:
  S3Client(S3Endpoint endpoint, S3Credentials credentials, S3ClientOptions options = {});

  // Streams the object into `destination` (created or truncated). NotFound when the key or the
  // bucket does not exist.
  // Every call takes the step's deadline; retries stop there.
  Result<Ok> get_object(const std::string& bucket, const std::string& key,
                        const std::filesystem::path& destination,
                        Deadline deadline = kNoDeadline) const;

  // Streams `source` into the object; multipart above options.part_size.
  Result<Ok> put_object(const std::string& bucket, const std::string& key,
                        const std::filesystem::path& source, Deadline deadline = kNoDeadline) const;

  // All objects whose key starts with `prefix` (following continuation tokens).
  Result<std::vector<S3ObjectInfo>> list_objects(const std::string& bucket,
                                                 const std::string& prefix,
                                                 Deadline deadline = kNoDeadline) const;

  // The URL of an object (or of the bucket when `key` is empty), for messages and tests.
  std::string url(const std::string& bucket, const std::string& key,
                  const std::string& canonical_query = "") const;

  const S3Endpoint& endpoint() const { return endpoint_; }

 private:
  struct Call;
  Result<net::Response> call(const Call& call) const;
  Result<Ok> put_single(const std::string& bucket, const std::string& key, int fd,
                        std::uint64_t size, Deadline deadline) const;
  Result<Ok> put_multipart(const std::string& bucket, const std::string& key, int fd,
                           std::uint64_t size, Deadline deadline) const;

  S3Endpoint endpoint_;
  S3Credentials credentials_;
  S3ClientOptions options_;
  std::string scheme_;
  std::string host_;
};

// Values of every <tag>...</tag> element in an S3 XML document, entities decoded. S3's documents
// are flat and small enough that a full XML parser buys nothing.
std::vector<std::string> xml_values(std::string_view xml, std::string_view tag);

// One ListObjectsV2 page: its objects and, when the listing is truncated, the continuation token
// (empty on the last page).
struct S3ListPage {
  std::vector<S3ObjectInfo> objects;
  std::string next_token;
};
S3ListPage parse_list_page(std::string_view xml);

// "s3://bucket/key", the spelling used in messages.
std::string s3_uri(const std::string& bucket, const std::string& key);

}  // namespace wwp::artifacts
