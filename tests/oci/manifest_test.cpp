#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "oci/manifest.hpp"
#include "oci/media_types.hpp"

namespace wwp::oci {
namespace {

using Json = nlohmann::json;

std::string digest_of(char c) { return "sha256:" + std::string(64, c); }

Json descriptor(std::string_view media_type, char c, std::uint64_t size = 10) {
  return {{"mediaType", media_type}, {"digest", digest_of(c)}, {"size", size}};
}

Json image_manifest(std::string_view media_type, std::vector<Json> layers) {
  Json json = {
      {"schemaVersion", 2}, {"config", descriptor(media::kWasmConfig, 'c', 2)}, {"layers", layers}};
  if (!media_type.empty()) json["mediaType"] = media_type;
  return json;
}

Json platform_entry(char c, std::string os, std::string arch) {
  Json entry = descriptor(media::kOciManifest, c, 500);
  entry["platform"] = {{"os", os}, {"architecture", arch}};
  return entry;
}

TEST(ManifestTest, OciArtifactManifest) {
  Json json = image_manifest(media::kOciManifest, {descriptor(media::kWasm, 'a', 1234)});
  json["artifactType"] = media::kWasmConfig;
  json["annotations"] = {{"org.opencontainers.image.source", "https://example.com/repo"}};
  auto parsed = parse_manifest(json.dump());
  ASSERT_TRUE(parsed) << parsed.error().message;
  const auto& manifest = std::get<ImageManifest>(*parsed);
  EXPECT_EQ(manifest.media_type, media::kOciManifest);
  EXPECT_EQ(manifest.artifact_type, std::string(media::kWasmConfig));
  EXPECT_EQ(manifest.config.media_type, media::kWasmConfig);
  ASSERT_EQ(manifest.layers.size(), 1u);
  EXPECT_EQ(manifest.layers[0].size, 1234u);
  EXPECT_EQ(manifest.annotations.at("org.opencontainers.image.source"), "https://example.com/repo");
  auto layers = module_layers(manifest);
  ASSERT_TRUE(layers);
  EXPECT_EQ(layers->size(), 1u);
  EXPECT_EQ(layers->front().format, LayerFormat::Wasm);
}

TEST(ManifestTest, MediaTypeFromHeaderOrShape) {
  const Json json = image_manifest("", {descriptor(media::kWasmLayer, 'a')});
  auto by_header =
      parse_manifest(json.dump(), std::string(media::kDockerManifest) + "; charset=utf-8");
  ASSERT_TRUE(by_header);
  EXPECT_EQ(media_type_of(*by_header), media::kDockerManifest);
  auto by_shape = parse_manifest(json.dump());
  ASSERT_TRUE(by_shape);
  EXPECT_EQ(media_type_of(*by_shape), media::kOciManifest);
  auto index = parse_manifest(Json{{"schemaVersion", 2}, {"manifests", Json::array()}}.dump());
  ASSERT_TRUE(index);
  EXPECT_EQ(media_type_of(*index), media::kOciIndex);
}

TEST(ManifestTest, DockerSchema2AndManifestList) {
  auto docker = parse_manifest(
      image_manifest(media::kDockerManifest, {descriptor(media::kDockerLayerTarGzip, 'e')}).dump());
  ASSERT_TRUE(docker);
  auto layers = module_layers(std::get<ImageManifest>(*docker));
  ASSERT_TRUE(layers);
  EXPECT_EQ(layers->front().format, LayerFormat::TarGzip);

  Json list = {{"schemaVersion", 2},
               {"mediaType", media::kDockerManifestList},
               {"manifests",
                {platform_entry('1', "linux", "amd64"), platform_entry('2', "wasip1", "wasm")}}};
  auto parsed = parse_manifest(list.dump());
  ASSERT_TRUE(parsed);
  auto entry = select_platform(std::get<ImageIndex>(*parsed));
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->digest.hex, std::string(64, '2'));
}

TEST(ManifestTest, PlatformSelection) {
  ImageIndex index;
  auto add = [&](char c, std::string os, std::string arch) {
    auto parsed = parse_manifest(Json{{"schemaVersion", 2},
                                      {"mediaType", media::kOciIndex},
                                      {"manifests", {platform_entry(c, os, arch)}}}
                                     .dump());
    index.manifests.push_back(std::get<ImageIndex>(*parsed).manifests[0]);
  };
  add('1', "linux", "amd64");
  add('2', "wasip2", "wasm");
  add('3', "wasip1", "wasm");
  auto chosen = select_platform(index);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->digest.hex, std::string(64, '3'));  // wasip1 over wasip2

  index.manifests.erase(index.manifests.begin() + 1, index.manifests.end());
  chosen = select_platform(index);  // the only entry
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->digest.hex, std::string(64, '1'));

  add('4', "linux", "arm64");
  chosen = select_platform(index);
  ASSERT_FALSE(chosen);
  EXPECT_NE(chosen.error().message.find("linux/amd64, linux/arm64"), std::string::npos)
      << chosen.error().message;
}

TEST(ManifestTest, AttestationsDoNotCount) {
  Json attestation = platform_entry('9', "unknown", "unknown");
  attestation["annotations"] = {{"vnd.docker.reference.type", "attestation-manifest"}};
  auto parsed =
      parse_manifest(Json{{"schemaVersion", 2},
                          {"mediaType", media::kOciIndex},
                          {"manifests", {platform_entry('1', "linux", "amd64"), attestation}}}
                         .dump());
  ASSERT_TRUE(parsed);
  auto chosen = select_platform(std::get<ImageIndex>(*parsed));
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->digest.hex, std::string(64, '1'));
}

TEST(ManifestTest, NoModuleLayerNamesMediaTypes) {
  auto parsed = parse_manifest(
      image_manifest(media::kOciManifest,
                     {descriptor("application/vnd.cncf.helm.chart.content.v1.tar+gzip", 'a'),
                      descriptor("text/plain", 'b')})
          .dump());
  ASSERT_TRUE(parsed);
  auto layers = module_layers(std::get<ImageManifest>(*parsed));
  ASSERT_FALSE(layers);
  EXPECT_EQ(layers.error().kind, ErrorKind::Failed);
  EXPECT_NE(layers.error().message.find(
                "application/vnd.cncf.helm.chart.content.v1.tar+gzip, text/plain"),
            std::string::npos)
      << layers.error().message;
}

TEST(ManifestTest, WasmLayerPreferredAndTarLayersTopFirst) {
  auto parsed =
      parse_manifest(image_manifest(media::kOciManifest, {descriptor(media::kOciLayerTarGzip, '1'),
                                                          descriptor(media::kModuleWasmLayer, '2')})
                         .dump());
  auto layers = module_layers(std::get<ImageManifest>(*parsed));
  ASSERT_TRUE(layers);
  ASSERT_EQ(layers->size(), 1u);
  EXPECT_EQ(layers->front().descriptor.digest.hex, std::string(64, '2'));

  parsed =
      parse_manifest(image_manifest(media::kOciManifest, {descriptor(media::kOciLayerTarGzip, '1'),
                                                          descriptor(media::kOciLayerTar, '2')})
                         .dump());
  layers = module_layers(std::get<ImageManifest>(*parsed));
  ASSERT_TRUE(layers);
  ASSERT_EQ(layers->size(), 2u);
  EXPECT_EQ(layers->at(0).format, LayerFormat::Tar);
  EXPECT_EQ(layers->at(1).format, LayerFormat::TarGzip);

  parsed = parse_manifest(image_manifest(media::kOciManifest, {descriptor(media::kWasm, '1'),
                                                               descriptor(media::kWasm, '2')})
                              .dump());
  EXPECT_FALSE(module_layers(std::get<ImageManifest>(*parsed)));
}

TEST(ManifestTest, Malformed) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "not valid JSON"},
      {"[]", "not a JSON object"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]})",
       "config is missing"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"x","digest":"sha256:abc","size":1},"layers":[]})",
       "config.digest"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"x","digest":"sha256:)" +
           std::string(64, 'a') + R"(","size":-1},"layers":[]})",
       "config.size"},
      {R"({"schemaVersion":1,"name":"x","fsLayers":[]})", "schema 1"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.example+json"})",
       "unsupported manifest media type"},
      {R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":{}})",
       "manifests is missing or not an array"},
  };
  for (const auto& [bytes, expected] : cases) {
    auto parsed = parse_manifest(bytes);
    ASSERT_FALSE(parsed) << bytes;
    EXPECT_EQ(parsed.error().kind, ErrorKind::Failed);
    EXPECT_NE(parsed.error().message.find(expected), std::string::npos)
        << bytes << " -> " << parsed.error().message;
  }
}

}  // namespace
}  // namespace wwp::oci
