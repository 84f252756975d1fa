// Argo's Artifact as it arrives in a template (inputs after the controller resolved them) and as
// we return it in outputs. Only the fields we act on are typed; `source` keeps the original JSON
// so nothing Argo sent is lost when we echo an artifact back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/json_fields.hpp"

namespace wwp::model {

struct SecretKeyRef {
  std::string name;
  std::string key;
};

struct S3Location {
  std::string endpoint;
  std::string bucket;
  std::string region;
  std::string key;
  std::optional<bool> insecure;
  std::optional<bool> path_style;  // Argo does not have this per artifact; repository config does
  std::optional<SecretKeyRef> access_key_secret;
  std::optional<SecretKeyRef> secret_key_secret;
};

struct HttpLocation {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct ArchiveStrategy {
  enum class Kind { Default, None, Tar, Zip };
  Kind kind = Kind::Default;  // Default means tar+gzip, as argoexec does
  std::optional<int> compression_level;
};

struct Artifact {
  std::string name;
  std::string path;
  bool optional = false;
  std::optional<std::uint32_t> mode;
  bool recurse_mode = false;  // `recurseMode`: apply `mode` to everything below a directory too
  ArchiveStrategy archive;
  std::optional<S3Location> s3;
  std::optional<HttpLocation> http;
  std::optional<std::string> raw;
  // A location kind we do not handle (git, gcs, azure, hdfs, oss, artifactory...). Empty if none.
  std::string unsupported_kind;
  Json source = Json::object();
};

Result<Artifact> parse_artifact(const Json& json, std::string_view path);
Json to_json(const Artifact& artifact);

}  // namespace wwp::model
