// OciModuleSource against the in-process fake registry: caching, pull policies, single flight,
// eviction and injected faults.
#include <gtest/gtest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/oci_commands.hpp"
#include "fake_registry.hpp"
#include "oci/media_types.hpp"
#include "oci/module_source.hpp"
#include "support.hpp"

namespace wwp::modules {
namespace {

using Json = nlohmann::json;
using model::PullPolicy;
using oci::OciModuleSource;
using oci::OciSettings;
using oci::test::fake_wasm;
using oci::test::FakeRegistry;
using oci::test::stored_blobs;
using oci::test::temp_files;
using oci::test::TempDir;
using store::BlobStore;
namespace media = oci::media;

class OciSourceTest : public ::testing::Test {
 protected:
  OciSettings settings() const {
    OciSettings s;
    s.cache_dir = cache_.path();
    s.insecure_registries = {registry_.host()};
    s.time_budget = std::chrono::milliseconds(3000);
    return s;
  }
  std::string ref(const std::string& repo_and_tag) const {
    return registry_.host() + "/" + repo_and_tag;
  }
  std::filesystem::path blobs() const { return cache_.path() / "blobs"; }
  bool cached(const std::string& bytes) const {
    return BlobStore(blobs()).contains(sha256_of(bytes));
  }

  FakeRegistry registry_;
  TempDir cache_;
};

TEST_F(OciSourceTest, PullsOnceThenServesFromCache) {
  const std::string wasm = fake_wasm(2000);
  const std::string manifest = registry_.put_module("team/mod", "v1", wasm);

  OciModuleSource source(settings());
  auto fetched = source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(fetched->digest, sha256_of(wasm));
  EXPECT_EQ(oci::test::read_file(fetched->file), wasm);
  EXPECT_EQ(fetched->resolved, ref("team/mod:v1@sha256:" + manifest));
  EXPECT_EQ(registry_.count("HEAD manifest"), 1);
  EXPECT_EQ(registry_.count("GET manifest"), 1);
  EXPECT_EQ(registry_.count("GET blob"), 1);
  EXPECT_EQ(source.stats().blob_fetches, 1u);

  // Hot: same instance. Warm: a new instance (another process) on the same cache directory.
  ASSERT_TRUE(source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent));
  OciModuleSource restarted(settings());
  auto warm = restarted.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent);
  ASSERT_TRUE(warm) << warm.error().message;
  EXPECT_EQ(warm->digest, fetched->digest);
  EXPECT_EQ(registry_.count("HEAD manifest") + registry_.count("GET manifest") +
                registry_.count("GET blob"),
            3);

  // A digest reference never goes to the registry once cached, even when it is gone.
  registry_.stop();
  OciModuleSource offline(settings());
  auto by_digest = offline.fetch(ref("team/mod@sha256:" + manifest), PullPolicy::IfNotPresent);
  ASSERT_TRUE(by_digest) << by_digest.error().message;
  EXPECT_EQ(by_digest->digest, sha256_of(wasm));
  auto always = offline.fetch(ref("team/mod@sha256:" + manifest), PullPolicy::Always);
  EXPECT_TRUE(always) << always.error().message;
}

TEST_F(OciSourceTest, TagsAreResolvedAgainAfterTheInterval) {
  const std::string first = fake_wasm(1000, 1);
  const std::string second = fake_wasm(1000, 2);
  registry_.put_module("team/mod", "v1", first);
  OciSettings s = settings();
  s.tag_refresh = std::chrono::seconds(1);
  OciModuleSource source(s);
  ASSERT_EQ(source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent)->digest, sha256_of(first));

  registry_.put_module("team/mod", "v1", second);  // the tag moves
  EXPECT_EQ(source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent)->digest, sha256_of(first));
  EXPECT_EQ(registry_.count("HEAD manifest"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent)->digest, sha256_of(second));
  EXPECT_EQ(registry_.count("HEAD manifest"), 2);
}

TEST_F(OciSourceTest, AlwaysResolvesTheTagButReusesBlobs) {
  const std::string wasm = fake_wasm(1000);
  registry_.put_module("team/mod", "v1", wasm);
  OciModuleSource source(settings());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(source.fetch(ref("team/mod:v1"), PullPolicy::Always));
  EXPECT_EQ(registry_.count("HEAD manifest"), 3);
  EXPECT_EQ(registry_.count("GET manifest"), 1);
  EXPECT_EQ(registry_.count("GET blob"), 1);
}

TEST_F(OciSourceTest, UnknownRepositoryOrTagIsNotFound) {
  registry_.put_module("team/mod", "v1", fake_wasm(100));
  OciModuleSource source(settings());
  for (const std::string missing : {"team/nope:v1", "team/mod:v2"}) {
    auto fetched = source.fetch(ref(missing), PullPolicy::IfNotPresent);
    ASSERT_FALSE(fetched);
    EXPECT_EQ(fetched.error().kind, ErrorKind::NotFound);
    EXPECT_EQ(fetched.error().message, "module " + ref(missing) + " not found");
  }
  auto bad = source.fetch("Not A Reference", PullPolicy::IfNotPresent);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidRequest);
}

TEST_F(OciSourceTest, RetriesServerErrorsAndRateLimits) {
  const std::string wasm = fake_wasm(1000);
  registry_.put_module("team/mod", "v1", wasm);
  OciModuleSource source(settings());
  registry_.fail_next(2, 503);
  auto fetched = source.fetch(ref("team/mod:v1"), PullPolicy::Always);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(registry_.count("HEAD manifest"), 3);

  registry_.fail_next(1, 429, 1);
  const auto start = std::chrono::steady_clock::now();
  fetched = source.fetch(ref("team/mod:v1"), PullPolicy::Always);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(900));  // Retry-After
}

TEST_F(OciSourceTest, PersistentServerErrorsBecomeTransientWithinTheBudget) {
  registry_.put_module("team/mod", "v1", fake_wasm(1000));
  OciSettings s = settings();
  s.time_budget = std::chrono::milliseconds(1200);
  OciModuleSource source(s);
  registry_.fail_next(1000, 502);
  const auto start = std::chrono::steady_clock::now();
  auto fetched = source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().kind, ErrorKind::Transient);
  EXPECT_NE(fetched.error().message.find("HTTP 502"), std::string::npos) << fetched.error().message;
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));
  EXPECT_GE(registry_.count("HEAD manifest"), 3);
}

TEST_F(OciSourceTest, UnreachableRegistryIsTransient) {
  OciSettings s = settings();
  s.time_budget = std::chrono::milliseconds(800);
  const int port = oci::test::free_port();
  s.insecure_registries.push_back("127.0.0.1:" + std::to_string(port));
  OciModuleSource source(s);
  auto fetched =
      source.fetch("127.0.0.1:" + std::to_string(port) + "/team/mod:v1", PullPolicy::IfNotPresent);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().kind, ErrorKind::Transient);
  EXPECT_NE(fetched.error().message.find("unreachable"), std::string::npos)
      << fetched.error().message;
}

TEST_F(OciSourceTest, CachedTagServesIfNotPresentWhileTheRegistryIsDown) {
  const std::string wasm = fake_wasm(1000);
  registry_.put_module("team/mod", "v1", wasm);
  OciSettings s = settings();
  s.tag_refresh = std::chrono::seconds(0);  // always stale
  s.time_budget = std::chrono::milliseconds(600);
  OciModuleSource source(s);
  ASSERT_TRUE(source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent));
  registry_.stop();
  auto fallback = source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent);
  ASSERT_TRUE(fallback) << fallback.error().message;
  EXPECT_EQ(fallback->digest, sha256_of(wasm));
  auto always = source.fetch(ref("team/mod:v1"), PullPolicy::Always);
  ASSERT_FALSE(always);
  EXPECT_EQ(always.error().kind, ErrorKind::Transient);
}

TEST_F(OciSourceTest, TruncatedTransferFailsAndCachesNothing) {
  const std::string wasm = fake_wasm(200000);
  registry_.put_module("team/mod", "v1", wasm);
  registry_.set_truncate_blobs(true);
  OciModuleSource source(settings());
  auto fetched = source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().kind, ErrorKind::Failed);
  EXPECT_NE(fetched.error().message.find("truncated"), std::string::npos)
      << fetched.error().message;
  EXPECT_FALSE(cached(wasm));
  EXPECT_TRUE(temp_files(cache_.path()).empty());
  EXPECT_FALSE(std::filesystem::exists(cache_.path() / "tags") &&
               !std::filesystem::is_empty(cache_.path() / "tags"));
}

TEST_F(OciSourceTest, DigestMismatchFailsAndCachesNothing) {
  const std::string wasm = fake_wasm(5000);
  registry_.put_module("team/mod", "v1", wasm);
  std::string evil = wasm;
  evil[100] ^= 1;
  registry_.serve_blob_as(sha256_of(wasm).hex, evil);
  OciModuleSource source(settings());
  auto fetched = source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().kind, ErrorKind::Failed);
  EXPECT_NE(fetched.error().message.find("digest mismatch"), std::string::npos)
      << fetched.error().message;
  EXPECT_FALSE(cached(wasm));
  EXPECT_FALSE(cached(evil));
  EXPECT_TRUE(temp_files(cache_.path()).empty());
}

TEST_F(OciSourceTest, OversizedBlobsAreRefused) {
  const std::string wasm = fake_wasm(5000);
  registry_.put_module("team/mod", "v1", wasm);
  OciSettings s = settings();
  s.max_blob_bytes = 4000;
  OciModuleSource source(s);
  auto fetched = source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().kind, ErrorKind::Failed);
  EXPECT_NE(fetched.error().message.find("more than the limit of 4000 bytes"), std::string::npos)
      << fetched.error().message;
  EXPECT_EQ(registry_.count("GET blob"), 0);  // refused before downloading

  // A registry sending more than the descriptor says is cut off.
  const std::string layer_hex = registry_.put_blob(wasm);
  const std::string config = "{}";
  const std::string config_hex = registry_.put_blob(config);
  const Json manifest = {
      {"schemaVersion", 2},
      {"mediaType", media::kOciManifest},
      {"config",
       {{"mediaType", media::kWasmConfig}, {"digest", "sha256:" + config_hex}, {"size", 2}}},
      {"layers",
       {{{"mediaType", media::kWasm}, {"digest", "sha256:" + layer_hex}, {"size", 100}}}}};
  registry_.put_manifest("team/liar", "v1", manifest.dump(), std::string(media::kOciManifest));
  OciModuleSource other(settings());
  fetched = other.fetch(ref("team/liar:v1"), PullPolicy::IfNotPresent);
  ASSERT_FALSE(fetched);
  EXPECT_NE(fetched.error().message.find("more than the 100 bytes"), std::string::npos)
      << fetched.error().message;
  EXPECT_TRUE(temp_files(cache_.path()).empty());
}

TEST_F(OciSourceTest, MalformedManifestAndMissingModuleLayer) {
  registry_.put_manifest("team/bad", "v1", "{\"schemaVersion\": 2, oops",
                         std::string(media::kOciManifest));
  const std::string config_hex = registry_.put_blob("{}");
  const Json helm = {{"schemaVersion", 2},
                     {"mediaType", media::kOciManifest},
                     {"config",
                      {{"mediaType", "application/vnd.cncf.helm.config.v1+json"},
                       {"digest", "sha256:" + config_hex},
                       {"size", 2}}},
                     {"layers",
                      {{{"mediaType", "application/vnd.cncf.helm.chart.content.v1.tar+gzip"},
                        {"digest", "sha256:" + config_hex},
                        {"size", 2}}}}};
  registry_.put_manifest("team/chart", "v1", helm.dump(), std::string(media::kOciManifest));
  OciModuleSource source(settings());
  auto bad = source.fetch(ref("team/bad:v1"), PullPolicy::IfNotPresent);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::Failed);
  EXPECT_NE(bad.error().message.find("malformed manifest: not valid JSON"), std::string::npos)
      << bad.error().message;
  EXPECT_TRUE(stored_blobs(blobs()).empty());

  auto chart = source.fetch(ref("team/chart:v1"), PullPolicy::IfNotPresent);
  ASSERT_FALSE(chart);
  EXPECT_NE(chart.error().message.find("no module layer"), std::string::npos);
  EXPECT_NE(chart.error().message.find("application/vnd.cncf.helm.chart.content.v1.tar+gzip"),
            std::string::npos);
}

TEST_F(OciSourceTest, IndexAndDockerImagesWithTarLayers) {
  // A Docker schema 2 image (FROM scratch + COPY) under a manifest list next to a linux image.
  const std::string wasm = fake_wasm(3000, 5);
  const std::string layer = oci::test::make_tar({{"app/", ""}, {"app/tool.wasm", wasm}}, true);
  const std::string layer_hex = registry_.put_blob(layer);
  const std::string config =
      R"({"architecture":"wasm","os":"wasip1","config":{"Entrypoint":["/app/tool.wasm"]}})";
  const std::string config_hex = registry_.put_blob(config);
  const Json image = {{"schemaVersion", 2},
                      {"mediaType", media::kDockerManifest},
                      {"config",
                       {{"mediaType", media::kDockerConfig},
                        {"digest", "sha256:" + config_hex},
                        {"size", config.size()}}},
                      {"layers",
                       {{{"mediaType", media::kDockerLayerTarGzip},
                         {"digest", "sha256:" + layer_hex},
                         {"size", layer.size()}}}}};
  const std::string image_hex =
      registry_.put_manifest("team/img", "", image.dump(), std::string(media::kDockerManifest));
  const std::string linux_hex =
      registry_.put_module("team/img", "", fake_wasm(10, 9));  // stands in for linux/amd64
  const Json list = {{"schemaVersion", 2},
                     {"mediaType", media::kDockerManifestList},
                     {"manifests",
                      {{{"mediaType", media::kOciManifest},
                        {"digest", "sha256:" + linux_hex},
                        {"size", 1},
                        {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}},
                       {{"mediaType", media::kDockerManifest},
                        {"digest", "sha256:" + image_hex},
                        {"size", image.dump().size()},
                        {"platform", {{"os", "wasip1"}, {"architecture", "wasm"}}}}}}};
  const std::string list_hex = registry_.put_manifest("team/img", "multi", list.dump(),
                                                      std::string(media::kDockerManifestList));

  OciModuleSource source(settings());
  auto fetched = source.fetch(ref("team/img:multi"), PullPolicy::IfNotPresent);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(fetched->digest, sha256_of(wasm));
  EXPECT_EQ(oci::test::read_file(fetched->file), wasm);

  auto inspected = cli::inspect_command(settings(), ref("team/img:multi"));
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ((*inspected)["digest"], "sha256:" + list_hex);
  EXPECT_EQ((*inspected)["mediaType"], media::kDockerManifestList);
  EXPECT_EQ((*inspected)["index"]["platform"], "wasip1/wasm");
  EXPECT_EQ((*inspected)["layer"]["format"], "tar+gzip");
  EXPECT_EQ((*inspected)["module"]["digest"], sha256_of(wasm).str());
  EXPECT_EQ((*inspected)["cached"], true);

  // A new process finds the extracted module through the layer mapping, with no downloads.
  registry_.reset_counts();
  OciModuleSource warm(settings());
  ASSERT_TRUE(warm.fetch(ref("team/img@sha256:" + list_hex), PullPolicy::IfNotPresent));
  EXPECT_EQ(registry_.count("GET blob") + registry_.count("GET manifest"), 0);
}

TEST_F(OciSourceTest, RegistryWithoutDigestHeader) {
  const std::string wasm = fake_wasm(1000);
  registry_.put_module("team/mod", "v1", wasm);
  registry_.set_omit_digest_header(true);
  OciModuleSource source(settings());
  auto fetched = source.fetch(ref("team/mod:v1"), PullPolicy::Always);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(fetched->digest, sha256_of(wasm));
}

TEST_F(OciSourceTest, ConcurrentRequestsShareOnePull) {
  const std::string wasm = fake_wasm(100000);
  registry_.put_module("team/mod", "v1", wasm);
  registry_.set_blob_delay(std::chrono::milliseconds(300));
  OciModuleSource source(settings());
  std::vector<std::future<Result<FetchedModule>>> results;
  for (int i = 0; i < 8; ++i) {
    results.push_back(std::async(std::launch::async, [&] {
      return source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent);
    }));
  }
  for (auto& result : results) {
    auto fetched = result.get();
    ASSERT_TRUE(fetched) << fetched.error().message;
    EXPECT_EQ(fetched->digest, sha256_of(wasm));
  }
  EXPECT_EQ(registry_.count("HEAD manifest"), 1);
  EXPECT_EQ(registry_.count("GET blob"), 1);
}

TEST_F(OciSourceTest, TwoProcessesSharingTheCacheDownloadABlobOnce) {
  const std::string wasm = fake_wasm(100000);
  registry_.put_module("team/mod", "v1", wasm);
  registry_.set_blob_delay(std::chrono::milliseconds(300));
  OciModuleSource a(settings());
  OciModuleSource b(settings());
  auto fa = std::async(std::launch::async,
                       [&] { return a.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent); });
  auto fb = std::async(std::launch::async,
                       [&] { return b.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent); });
  auto ra = fa.get();
  auto rb = fb.get();
  ASSERT_TRUE(ra) << ra.error().message;
  ASSERT_TRUE(rb) << rb.error().message;
  EXPECT_EQ(ra->file, rb->file);
  EXPECT_EQ(registry_.count("GET blob"), 1);
  EXPECT_EQ(a.stats().blob_fetches + b.stats().blob_fetches, 1u);
}

TEST_F(OciSourceTest, SeparateProcessesSharingTheCacheDownloadABlobOnce) {
  const std::string wasm = fake_wasm(300000);
  registry_.put_module("team/mod", "v1", wasm);
  registry_.set_slow_blobs(std::chrono::milliseconds(10));
  std::vector<oci::test::ChildProcess> helpers;
  for (int i = 0; i < 2; ++i) {
    helpers.emplace_back(std::vector<std::string>{OCI_PULL_HELPER, cache_.path().string(),
                                                  registry_.host(), ref("team/mod:v1")},
                         cache_.path() / ("helper-" + std::to_string(i) + ".log"));
  }
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(helpers[i].wait(), 0)
        << oci::test::read_file(cache_.path() / ("helper-" + std::to_string(i) + ".log"));
  }
  EXPECT_EQ(registry_.count("GET blob"), 1);
  EXPECT_TRUE(cached(wasm));
  EXPECT_TRUE(temp_files(blobs()).empty());
}

TEST_F(OciSourceTest, CrashMidPullLeavesNothingHalfWritten) {
  const std::string wasm = fake_wasm(400000);
  registry_.put_module("team/mod", "v1", wasm);
  registry_.set_slow_blobs(std::chrono::milliseconds(40));  // about a second per pull
  oci::test::ChildProcess helper(
      {OCI_PULL_HELPER, cache_.path().string(), registry_.host(), ref("team/mod:v1")},
      cache_.path() / "helper.log");
  // Wait until the module download is under way, then kill the process.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto downloading = [&] {
    for (const std::string& temp : temp_files(blobs())) {
      std::error_code ec;
      if (std::filesystem::file_size(temp, ec) > 50000) return true;
    }
    return false;
  };
  while (!downloading() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(downloading());
  helper.kill_now();

  EXPECT_FALSE(cached(wasm));                 // no torn blob under the digest
  EXPECT_EQ(temp_files(blobs()).size(), 1u);  // only the dead process's temporary file
  registry_.set_slow_blobs(std::chrono::milliseconds(0));
  OciModuleSource source(settings());
  auto fetched = source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(oci::test::read_file(fetched->file), wasm);

  // Once old enough, the leftover is cleaned up (it is no longer locked by a live writer).
  for (const std::string& temp : temp_files(blobs())) {
    std::filesystem::last_write_time(
        temp, std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
  }
  EXPECT_EQ(BlobStore(blobs()).remove_stale_temps(std::chrono::minutes(10)), 1u);
  EXPECT_TRUE(temp_files(blobs()).empty());
}

TEST_F(OciSourceTest, EvictionIsLeastRecentlyUsedAndSparesModulesInUse) {
  OciSettings s = settings();
  s.max_cache_bytes = 25000;
  OciModuleSource source(s);
  std::vector<std::string> modules;
  for (unsigned i = 0; i < 4; ++i) {
    modules.push_back(fake_wasm(10000, 100 + i));
    registry_.put_module("team/m" + std::to_string(i), "v1", modules.back());
  }
  auto first = source.fetch(ref("team/m0:v1"), PullPolicy::IfNotPresent);
  ASSERT_TRUE(first);  // held: in use while the others are pulled
  for (unsigned i = 1; i < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // distinct mtimes
    ASSERT_TRUE(source.fetch(ref("team/m" + std::to_string(i) + ":v1"), PullPolicy::IfNotPresent));
  }
  EXPECT_TRUE(cached(modules[0]));   // leased
  EXPECT_FALSE(cached(modules[1]));  // least recently used
  EXPECT_TRUE(cached(modules[3]));   // just pulled
  EXPECT_LE(BlobStore(blobs()).usage().bytes, 25000u + 2000u);

  // Evicted modules come back on demand.
  auto again = source.fetch(ref("team/m1:v1"), PullPolicy::IfNotPresent);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(oci::test::read_file(again->file), modules[1]);
}

TEST_F(OciSourceTest, BadDockerConfigIsReportedOnUse) {
  OciSettings s = settings();
  s.docker_config = cache_.path() / "missing-config.json";
  OciModuleSource source(s);
  auto fetched = source.fetch(ref("team/mod:v1"), PullPolicy::IfNotPresent);
  ASSERT_FALSE(fetched);
  EXPECT_NE(fetched.error().message.find("missing-config.json"), std::string::npos);
}

TEST_F(OciSourceTest, PullAndInspectCommands) {
  const std::string wasm = fake_wasm(4000);
  const std::string manifest = registry_.put_module("team/mod", "v1", wasm);
  TempDir out;
  auto pulled = cli::pull_command(settings(), ref("team/mod:v1"), out / "mod.wasm");
  ASSERT_TRUE(pulled) << pulled.error().message;
  EXPECT_EQ(oci::test::read_file(out / "mod.wasm"), wasm);
  EXPECT_EQ((*pulled)["digest"], sha256_of(wasm).str());
  EXPECT_EQ((*pulled)["size"], wasm.size());
  EXPECT_TRUE(temp_files(out.path()).empty());

  auto inspected = cli::inspect_command(settings(), ref("team/mod:v1"));
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ((*inspected)["digest"], "sha256:" + manifest);
  EXPECT_EQ((*inspected)["mediaType"], media::kOciManifest);
  EXPECT_EQ((*inspected)["artifactType"], media::kWasmConfig);
  EXPECT_EQ((*inspected)["layer"]["mediaType"], "application/wasm");
  EXPECT_EQ((*inspected)["layer"]["digest"], sha256_of(wasm).str());
  EXPECT_EQ((*inspected)["size"], wasm.size());
}

}  // namespace
}  // namespace wwp::modules
