#include "model/artifact.hpp"

namespace wwp::model {

namespace {

Result<std::optional<SecretKeyRef>> parse_secret_ref(const Json& object, std::string_view key,
                                                     std::string_view path) {
  auto ref = optional_object(object, key, path);
  if (!ref) return ref.error();
  if (*ref == nullptr) return std::optional<SecretKeyRef>{};
  std::string ref_path = std::string(path) + "." + std::string(key);
  auto name = optional_string(**ref, "name", ref_path);
  if (!name) return name.error();
  auto ref_key = required_string(**ref, "key", ref_path);
  if (!ref_key) return ref_key.error();
  return std::optional<SecretKeyRef>{SecretKeyRef{name->value_or(""), *ref_key}};
}

Result<S3Location> parse_s3(const Json& json, std::string_view path) {
  S3Location s3;
  for (auto [field, target] : {std::pair{"endpoint", &s3.endpoint}, std::pair{"bucket", &s3.bucket},
                               std::pair{"region", &s3.region}, std::pair{"key", &s3.key}}) {
    auto value = optional_string(json, field, path);
    if (!value) return value.error();
    *target = value->value_or("");
  }
  auto insecure = optional_bool(json, "insecure", path);
  if (!insecure) return insecure.error();
  s3.insecure = *insecure;
  auto access = parse_secret_ref(json, "accessKeySecret", path);
  if (!access) return access.error();
  s3.access_key_secret = *access;
  auto secret = parse_secret_ref(json, "secretKeySecret", path);
  if (!secret) return secret.error();
  s3.secret_key_secret = *secret;
  return s3;
}

Result<HttpLocation> parse_http(const Json& json, std::string_view path) {
  HttpLocation http;
  auto url = required_string(json, "url", path);
  if (!url) return url.error();
  http.url = *url;
  auto headers = optional_array(json, "headers", path);
  if (!headers) return headers.error();
  if (*headers != nullptr) {
    for (std::size_t i = 0; i < (*headers)->size(); ++i) {
      std::string header_path = std::string(path) + ".headers[" + std::to_string(i) + "]";
      const Json& header = (**headers)[i];
      auto name = required_string(header, "name", header_path);
      if (!name) return name.error();
      auto value = optional_string(header, "value", header_path);
      if (!value) return value.error();
      http.headers.emplace_back(*name, value->value_or(""));
    }
  }
  return http;
}

Result<ArchiveStrategy> parse_archive(const Json& json, std::string_view path) {
  ArchiveStrategy archive;
  if (json.contains("none")) {
    archive.kind = ArchiveStrategy::Kind::None;
  } else if (json.contains("zip")) {
    archive.kind = ArchiveStrategy::Kind::Zip;
  } else if (json.contains("tar")) {
    archive.kind = ArchiveStrategy::Kind::Tar;
    const Json& tar = json["tar"];
    if (tar.is_object() && tar.contains("compressionLevel")) {
      const Json& level = tar["compressionLevel"];
      if (!level.is_number_integer() || level.get<int>() < -1 || level.get<int>() > 9) {
        return field_error(std::string(path) + ".tar.compressionLevel",
                           "expected an integer from -1 to 9");
      }
      archive.compression_level = level.get<int>();
    }
  }
  return archive;
}

}  // namespace

Result<Artifact> parse_artifact(const Json& json, std::string_view path) {
  if (!json.is_object()) {
    return field_error(path, "expected an artifact object, got " + json_type_name(json));
  }
  Artifact artifact;
  artifact.source = json;
  auto name = required_string(json, "name", path);
  if (!name) return name.error();
  artifact.name = *name;
  auto artifact_path = optional_string(json, "path", path);
  if (!artifact_path) return artifact_path.error();
  artifact.path = artifact_path->value_or("");
  auto optional = optional_bool(json, "optional", path);
  if (!optional) return optional.error();
  artifact.optional = optional->value_or(false);
  if (json.contains("mode") && !json["mode"].is_null()) {
    if (!json["mode"].is_number_integer() || json["mode"].get<std::int64_t>() < 0 ||
        json["mode"].get<std::int64_t>() > 07777) {
      return field_error(std::string(path) + ".mode",
                         "expected a file mode such as 0644 (decimal 420)");
    }
    artifact.mode = json["mode"].get<std::uint32_t>();
  }
  auto recurse_mode = optional_bool(json, "recurseMode", path);
  if (!recurse_mode) return recurse_mode.error();
  artifact.recurse_mode = recurse_mode->value_or(false);
  auto archive = optional_object(json, "archive", path);
  if (!archive) return archive.error();
  if (*archive != nullptr) {
    auto strategy = parse_archive(**archive, std::string(path) + ".archive");
    if (!strategy) return strategy.error();
    artifact.archive = *strategy;
  }
  auto s3 = optional_object(json, "s3", path);
  if (!s3) return s3.error();
  if (*s3 != nullptr) {
    auto location = parse_s3(**s3, std::string(path) + ".s3");
    if (!location) return location.error();
    artifact.s3 = *location;
  }
  auto http = optional_object(json, "http", path);
  if (!http) return http.error();
  if (*http != nullptr) {
    auto location = parse_http(**http, std::string(path) + ".http");
    if (!location) return location.error();
    artifact.http = *location;
  }
  auto raw = optional_object(json, "raw", path);
  if (!raw) return raw.error();
  if (*raw != nullptr) {
    auto data = optional_string(**raw, "data", std::string(path) + ".raw");
    if (!data) return data.error();
    artifact.raw = data->value_or("");
  }
  for (const char* kind : {"git", "gcs", "azure", "hdfs", "oss", "artifactory", "huggingFace"}) {
    if (json.contains(kind) && !json[kind].is_null()) artifact.unsupported_kind = kind;
  }
  return artifact;
}

Json to_json(const Artifact& artifact) {
  Json json = artifact.source.is_object() ? artifact.source : Json::object();
  json["name"] = artifact.name;
  if (!artifact.path.empty()) json["path"] = artifact.path;
  if (artifact.s3) {
    Json& s3 = json["s3"];
    if (!s3.is_object()) s3 = Json::object();
    s3["key"] = artifact.s3->key;
    if (!artifact.s3->bucket.empty()) s3["bucket"] = artifact.s3->bucket;
    if (!artifact.s3->endpoint.empty()) s3["endpoint"] = artifact.s3->endpoint;
    if (!artifact.s3->region.empty()) s3["region"] = artifact.s3->region;
    if (artifact.s3->insecure) s3["insecure"] = *artifact.s3->insecure;
    // Downstream steps (argoexec or another plugin step) need the Secret names to authenticate.
    for (auto [field, ref] : {std::pair{"accessKeySecret", &artifact.s3->access_key_secret},
                              std::pair{"secretKeySecret", &artifact.s3->secret_key_secret}}) {
      if (*ref) s3[field] = Json{{"name", (*ref)->name}, {"key", (*ref)->key}};
    }
  }
  return json;
}

}  // namespace wwp::model
