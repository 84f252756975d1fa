// Against real peers: Debian's docker-registry (anonymous, htpasswd, token auth, TLS), a token
// service, and skopeo for interoperability. Also fault injection on the real registry.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/oci_commands.hpp"
#include "common/base64.hpp"
#include "oci/media_types.hpp"
#include "oci/module_source.hpp"
#include "oci/push.hpp"
#include "oci/registry_client.hpp"
#include "registry_fixture.hpp"
#include "support.hpp"

namespace wwp::oci {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using cli::inspect_command;
using cli::pull_command;
using cli::push_command;
using model::PullPolicy;
using oci::OciSettings;
using test::fake_wasm;
using test::Registry;
using test::RegistryConfig;
using test::TempDir;

// Captures everything logged (at debug level) while alive.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

class RegistryTest : public ::testing::Test {
 protected:
  OciSettings settings(const Registry& registry, bool insecure = true) const {
    OciSettings s;
    s.cache_dir = cache_.path();
    if (insecure) s.insecure_registries = {registry.host()};
    s.time_budget = std::chrono::milliseconds(5000);
    return s;
  }
  fs::path module_file(const std::string& bytes, const std::string& name = "module.wasm") {
    const fs::path path = work_ / name;
    test::write_file(path, bytes);
    return path;
  }
  static void expect_no_secret(const std::string& text, const std::string& secret) {
    EXPECT_EQ(text.find(secret), std::string::npos) << "secret leaked: " << text;
    EXPECT_EQ(text.find(base64_encode("alice:" + secret)), std::string::npos)
        << "secret leaked: " << text;
  }

  TempDir cache_;
  TempDir work_;
};

TEST_F(RegistryTest, AnonymousPushPullInspect) {
  Registry registry;
  const std::string wasm = fake_wasm(200 * 1024);
  PushOptions options;
  options.source = "https://github.com/example/hello";
  auto pushed = push_command(settings(registry), module_file(wasm),
                             registry.host() + "/team/hello:v1", options);
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_EQ((*pushed)["layer"], sha256_of(wasm).str());
  EXPECT_EQ((*pushed)["layerUploaded"], true);

  OciModuleSource source(settings(registry));
  auto fetched = source.fetch(registry.host() + "/team/hello:v1", PullPolicy::IfNotPresent);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(test::read_file(fetched->file), wasm);
  EXPECT_EQ(fetched->resolved,
            registry.host() + "/team/hello:v1@" + (*pushed)["digest"].get<std::string>());

  auto inspected = inspect_command(settings(registry), registry.host() + "/team/hello:v1");
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ((*inspected)["digest"], (*pushed)["digest"]);
  EXPECT_EQ((*inspected)["mediaType"], media::kOciManifest);
  EXPECT_EQ((*inspected)["config"]["mediaType"], media::kWasmConfig);
  EXPECT_EQ((*inspected)["layer"]["mediaType"], "application/wasm");
  EXPECT_EQ((*inspected)["size"], wasm.size());
  EXPECT_EQ((*inspected)["annotations"]["org.opencontainers.image.source"],
            "https://github.com/example/hello");
  EXPECT_TRUE((*inspected)["annotations"].contains("org.opencontainers.image.created"));

  // Pushing the same module under another tag reuses the registry's blob.
  auto again =
      push_command(settings(registry), module_file(wasm), registry.host() + "/team/hello:v2");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*again)["layerUploaded"], false);
}

TEST_F(RegistryTest, BasicAuthWithHtpasswd) {
  RegistryConfig config;
  config.auth = RegistryConfig::Auth::Htpasswd;
  Registry registry(config);
  const std::string ref = registry.host() + "/private/tool:1.0";
  const std::string wasm = fake_wasm(10000);
  LogCapture logs;

  auto anonymous = push_command(settings(registry), module_file(wasm), ref);
  ASSERT_FALSE(anonymous);
  EXPECT_NE(anonymous.error().message.find("requires credentials"), std::string::npos)
      << anonymous.error().message;

  OciSettings with_flags = settings(registry);
  with_flags.username = config.user;
  with_flags.password = config.password;
  auto pushed = push_command(with_flags, module_file(wasm), ref);
  ASSERT_TRUE(pushed) << pushed.error().message;

  // Pull with credentials from a dockerconfigjson file (as mounted from a Kubernetes secret).
  const fs::path docker_config = work_ / "dockerconfig.json";
  test::write_file(
      docker_config,
      Json{{"auths",
            {{registry.host(), {{"auth", base64_encode(config.user + ":" + config.password)}}}}}}
          .dump());
  OciSettings with_config = settings(registry);
  with_config.docker_config = docker_config;
  OciModuleSource source(with_config);
  auto fetched = source.fetch(ref, PullPolicy::Always);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(test::read_file(fetched->file), wasm);

  OciSettings wrong = settings(registry);
  wrong.username = config.user;
  wrong.password = "Wrong-Passw0rd-XYZ";
  TempDir other_cache;
  wrong.cache_dir = other_cache.path();
  OciModuleSource denied(wrong);
  auto refused = denied.fetch(ref, PullPolicy::Always);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::Failed);
  expect_no_secret(refused.error().message, "Wrong-Passw0rd-XYZ");
  expect_no_secret(refused.error().message, config.password);
  expect_no_secret(logs.text(), "Wrong-Passw0rd-XYZ");
  expect_no_secret(logs.text(), config.password);
}

TEST_F(RegistryTest, BearerTokenAuth) {
  TempDir pki_dir;
  const test::Pki pki = test::make_pki(pki_dir.path());
  RegistryConfig config;
  test::TokenService tokens(pki.signing_cert, pki.signing_key, config.user, config.password);
  config.auth = RegistryConfig::Auth::Token;
  config.token_realm = tokens.realm();
  config.token_root_bundle = pki.signing_cert;
  Registry registry(config);
  const std::string ref = registry.host() + "/secure/tool:2";
  const std::string wasm = fake_wasm(30000);
  LogCapture logs;

  // Anonymous tokens only grant pull.
  auto anonymous = push_command(settings(registry), module_file(wasm), ref);
  ASSERT_FALSE(anonymous);
  EXPECT_NE(anonymous.error().message.find("denied"), std::string::npos)
      << anonymous.error().message;

  OciSettings pusher = settings(registry);
  pusher.username = config.user;
  pusher.password = config.password;
  auto pushed = push_command(pusher, module_file(wasm), ref);
  ASSERT_TRUE(pushed) << pushed.error().message << "\n" << registry.log();

  // Anonymous pull through the bearer flow; the token is reused for later requests.
  OciModuleSource source(settings(registry));
  auto fetched = source.fetch(ref, PullPolicy::Always);
  ASSERT_TRUE(fetched) << fetched.error().message << "\n" << registry.log();
  EXPECT_EQ(test::read_file(fetched->file), wasm);
  const int token_requests = tokens.requests();
  ASSERT_TRUE(source.fetch(ref, PullPolicy::Always));
  EXPECT_EQ(tokens.requests(), token_requests);

  OciSettings wrong = settings(registry);
  wrong.username = config.user;
  wrong.password = "Wrong-Passw0rd-XYZ";
  auto refused = push_command(wrong, module_file(wasm), ref);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("rejected the configured credentials"), std::string::npos)
      << refused.error().message;
  expect_no_secret(refused.error().message, "Wrong-Passw0rd-XYZ");
  expect_no_secret(logs.text(), "Wrong-Passw0rd-XYZ");
  expect_no_secret(logs.text(), config.password);
}

TEST_F(RegistryTest, TlsWithCustomCa) {
  TempDir pki_dir;
  const test::Pki pki = test::make_pki(pki_dir.path());
  RegistryConfig config;
  config.tls_cert = pki.server_cert;
  config.tls_key = pki.server_key;
  Registry registry(config);
  const std::string ref = registry.host() + "/tls/tool:1";
  const std::string wasm = fake_wasm(20000);

  OciSettings trusted = settings(registry, /*insecure=*/false);
  trusted.ca_file = pki.ca_cert;
  auto pushed = push_command(trusted, module_file(wasm), ref);
  ASSERT_TRUE(pushed) << pushed.error().message;
  OciModuleSource source(trusted);
  auto fetched = source.fetch(ref, PullPolicy::IfNotPresent);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(test::read_file(fetched->file), wasm);

  TempDir other_cache;
  OciSettings untrusted = settings(registry, /*insecure=*/false);
  untrusted.cache_dir = other_cache.path();
  OciModuleSource stranger(untrusted);
  auto refused = stranger.fetch(ref, PullPolicy::IfNotPresent);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::Failed);
  EXPECT_NE(refused.error().message.find("TLS"), std::string::npos) << refused.error().message;
}

// An OCI image layout directory, as skopeo reads and writes it.
void write_layout(const fs::path& dir, const std::vector<std::string>& blobs,
                  const std::string& manifest, std::string_view media_type,
                  const std::string& tag) {
  test::write_file(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  for (const std::string& blob : blobs)
    test::write_file(dir / "blobs/sha256" / sha256_of(blob).hex, blob);
  test::write_file(dir / "blobs/sha256" / sha256_of(manifest).hex, manifest);
  const Json index = {{"schemaVersion", 2},
                      {"manifests",
                       {{{"mediaType", media_type},
                         {"digest", sha256_of(manifest).str()},
                         {"size", manifest.size()},
                         {"annotations", {{"org.opencontainers.image.ref.name", tag}}}}}}};
  test::write_file(dir / "index.json", index.dump());
}

test::CommandResult skopeo(std::vector<std::string> args) {
  args.insert(args.begin(), {"skopeo", "--insecure-policy"});
  return test::run_command(args);
}

TEST_F(RegistryTest, SkopeoPushedArtifactPullsWithOurClient) {
  Registry registry;
  const std::string wasm = fake_wasm(50000, 3);
  PushOptions options;
  options.created = "2024-01-01T00:00:00Z";
  const Artifact artifact = build_artifact(wasm, options);
  TempDir layout;
  write_layout(layout.path(), {wasm, artifact.config}, artifact.manifest, media::kOciManifest,
               "v1");
  const auto copied =
      skopeo({"copy", "--dest-tls-verify=false", "oci:" + layout.path().string() + ":v1",
              "docker://" + registry.host() + "/interop/mod:v1"});
  ASSERT_EQ(copied.exit_code, 0) << copied.output;

  OciModuleSource source(settings(registry));
  auto fetched = source.fetch(registry.host() + "/interop/mod:v1", PullPolicy::IfNotPresent);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(test::read_file(fetched->file), wasm);
  EXPECT_EQ(fetched->resolved,
            registry.host() + "/interop/mod:v1@" + artifact.manifest_digest.str());
}

TEST_F(RegistryTest, WhatWePushSkopeoCopiesByteForByte) {
  Registry registry;
  const std::string wasm = fake_wasm(70000, 4);
  auto pushed =
      push_command(settings(registry), module_file(wasm), registry.host() + "/interop/ours:v1");
  ASSERT_TRUE(pushed) << pushed.error().message;
  TempDir layout;
  const auto copied = skopeo({"copy", "--src-tls-verify=false", "--preserve-digests",
                              "docker://" + registry.host() + "/interop/ours:v1",
                              "oci:" + layout.path().string() + ":v1"});
  ASSERT_EQ(copied.exit_code, 0) << copied.output;
  const Json index = Json::parse(test::read_file(layout.path() / "index.json"));
  EXPECT_EQ(index["manifests"][0]["digest"], (*pushed)["digest"]);
  EXPECT_EQ(test::read_file(layout.path() / "blobs/sha256" / sha256_of(wasm).hex), wasm);
  const Json manifest = Json::parse(test::read_file(
      layout.path() / "blobs/sha256" / (*pushed)["digest"].get<std::string>().substr(7)));
  EXPECT_EQ(manifest["layers"][0]["mediaType"], "application/wasm");
  EXPECT_EQ(manifest["config"]["mediaType"], media::kWasmConfig);

  const auto inspected = skopeo({"inspect", "--tls-verify=false", "--raw",
                                 "docker://" + registry.host() + "/interop/ours:v1"});
  ASSERT_EQ(inspected.exit_code, 0) << inspected.output;
  EXPECT_EQ(sha256_of(inspected.output).str(), (*pushed)["digest"]);
}

TEST_F(RegistryTest, ScratchImageAsDockerSchema2ThroughSkopeo) {
  Registry registry;
  const std::string wasm = fake_wasm(40000, 6);
  const std::string tar = test::make_tar({{"app/", ""}, {"app/tool.wasm", wasm}}, false);
  const std::string layer = test::make_tar({{"app/", ""}, {"app/tool.wasm", wasm}}, true);
  const Json config = {{"architecture", "wasm"},
                       {"os", "wasip1"},
                       {"config", {{"Entrypoint", {"/app/tool.wasm"}}}},
                       {"rootfs", {{"type", "layers"}, {"diff_ids", {sha256_of(tar).str()}}}}};
  const std::string config_bytes = config.dump();
  const Json manifest = {{"schemaVersion", 2},
                         {"mediaType", media::kOciManifest},
                         {"config",
                          {{"mediaType", media::kOciConfig},
                           {"digest", sha256_of(config_bytes).str()},
                           {"size", config_bytes.size()}}},
                         {"layers",
                          {{{"mediaType", media::kOciLayerTarGzip},
                            {"digest", sha256_of(layer).str()},
                            {"size", layer.size()}}}}};
  TempDir layout;
  write_layout(layout.path(), {config_bytes, layer}, manifest.dump(), media::kOciManifest, "v1");
  const auto copied = skopeo({"copy", "--dest-tls-verify=false", "--format", "v2s2",
                              "oci:" + layout.path().string() + ":v1",
                              "docker://" + registry.host() + "/images/tool:v1"});
  ASSERT_EQ(copied.exit_code, 0) << copied.output;

  OciModuleSource source(settings(registry));
  auto inspected = inspect_command(settings(registry), registry.host() + "/images/tool:v1");
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ((*inspected)["mediaType"], media::kDockerManifest);
  EXPECT_EQ((*inspected)["layer"]["format"], "tar+gzip");
  auto fetched = source.fetch(registry.host() + "/images/tool:v1", PullPolicy::IfNotPresent);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(fetched->digest, sha256_of(wasm));
  EXPECT_EQ(test::read_file(fetched->file), wasm);
}

TEST_F(RegistryTest, ImageIndexChoosesTheWasmEntry) {
  Registry registry;
  const std::string wasm = fake_wasm(10000, 8);
  const std::string other = fake_wasm(10000, 9);
  OciSettings s = settings(registry);
  auto options = client_options(s);
  ASSERT_TRUE(options);
  RegistryClient client(std::move(*options));
  const Deadline deadline = deadline_in(std::chrono::seconds(10));
  auto ref = parse_reference(registry.host() + "/multi/tool:v1");
  ASSERT_TRUE(ref);
  PushOptions push_options;
  push_options.created = "2024-01-01T00:00:00Z";
  Reference wasm_ref = *ref;
  wasm_ref.tag = "wasm";
  Reference linux_ref = *ref;
  linux_ref.tag = "linux";
  auto wasm_push = push_module(client, wasm_ref, wasm, push_options, deadline);
  ASSERT_TRUE(wasm_push) << wasm_push.error().message;
  auto linux_push = push_module(client, linux_ref, other, push_options, deadline);
  ASSERT_TRUE(linux_push) << linux_push.error().message;
  const Artifact wasm_artifact = build_artifact(wasm, push_options);
  const Artifact linux_artifact = build_artifact(other, push_options);
  const Json index = {{"schemaVersion", 2},
                      {"mediaType", media::kOciIndex},
                      {"manifests",
                       {{{"mediaType", media::kOciManifest},
                         {"digest", linux_push->manifest_digest.str()},
                         {"size", linux_artifact.manifest.size()},
                         {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}},
                        {{"mediaType", media::kOciManifest},
                         {"digest", wasm_push->manifest_digest.str()},
                         {"size", wasm_artifact.manifest.size()},
                         {"platform", {{"os", "wasip1"}, {"architecture", "wasm"}}}}}}};
  auto put = client.put_manifest(*ref, "v1", index.dump(), media::kOciIndex, deadline);
  ASSERT_TRUE(put) << put.error().message << registry.log();

  OciModuleSource source(s);
  auto fetched = source.fetch(registry.host() + "/multi/tool:v1", PullPolicy::IfNotPresent);
  ASSERT_TRUE(fetched) << fetched.error().message;
  EXPECT_EQ(fetched->digest, sha256_of(wasm));
  auto inspected = inspect_command(s, registry.host() + "/multi/tool:v1");
  ASSERT_TRUE(inspected);
  EXPECT_EQ((*inspected)["mediaType"], media::kOciIndex);
  EXPECT_EQ((*inspected)["index"]["platform"], "wasip1/wasm");
}

TEST_F(RegistryTest, RegistryStoppedMidRun) {
  Registry registry;
  const std::string wasm = fake_wasm(10000);
  ASSERT_TRUE(push_command(settings(registry), module_file(wasm), registry.host() + "/team/a:v1"));
  ASSERT_TRUE(push_command(settings(registry), module_file(fake_wasm(100, 2)),
                           registry.host() + "/team/b:v1"));
  OciSettings s = settings(registry);
  s.time_budget = std::chrono::milliseconds(1500);
  OciModuleSource source(s);
  ASSERT_TRUE(source.fetch(registry.host() + "/team/a:v1", PullPolicy::Always));

  registry.stop();
  const auto start = std::chrono::steady_clock::now();
  auto down = source.fetch(registry.host() + "/team/a:v1", PullPolicy::Always);
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().kind, ErrorKind::Transient);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(3000));
  auto never_pulled = source.fetch(registry.host() + "/team/b:v1", PullPolicy::IfNotPresent);
  ASSERT_FALSE(never_pulled);
  EXPECT_EQ(never_pulled.error().kind, ErrorKind::Transient);
  // What is cached still serves steps that do not insist on the registry.
  EXPECT_TRUE(source.fetch(registry.host() + "/team/a:v1", PullPolicy::IfNotPresent));

  registry.start();
  auto back = source.fetch(registry.host() + "/team/b:v1", PullPolicy::IfNotPresent);
  EXPECT_TRUE(back) << back.error().message;
}

TEST_F(RegistryTest, CorruptedBlobInRegistryStorage) {
  Registry registry;
  const std::string wasm = fake_wasm(30000);
  ASSERT_TRUE(push_command(settings(registry), module_file(wasm), registry.host() + "/team/c:v1"));
  std::string corrupted = wasm;
  corrupted[20000] ^= 0x5a;
  test::write_file(registry.blob_data(sha256_of(wasm).hex), corrupted);

  OciModuleSource source(settings(registry));
  auto fetched = source.fetch(registry.host() + "/team/c:v1", PullPolicy::IfNotPresent);
  ASSERT_FALSE(fetched);
  EXPECT_EQ(fetched.error().kind, ErrorKind::Failed);
  EXPECT_NE(fetched.error().message.find("digest mismatch"), std::string::npos)
      << fetched.error().message;
  store::BlobStore store(cache_.path() / "blobs");
  EXPECT_FALSE(store.contains(sha256_of(wasm)));
  EXPECT_FALSE(store.contains(sha256_of(corrupted)));
  EXPECT_TRUE(test::temp_files(cache_.path()).empty());
}

TEST_F(RegistryTest, TwoSourcesSharingACacheDirectoryPullConcurrently) {
  Registry registry;
  const std::string big = fake_wasm(5 << 20, 11);
  const std::string small = fake_wasm(1000, 12);
  ASSERT_TRUE(push_command(settings(registry), module_file(big), registry.host() + "/team/big:v1"));
  ASSERT_TRUE(
      push_command(settings(registry), module_file(small), registry.host() + "/team/small:v1"));
  OciModuleSource first(settings(registry));
  OciModuleSource second(settings(registry));
  std::vector<std::future<Result<modules::FetchedModule>>> pulls;
  for (int i = 0; i < 6; ++i) {
    OciModuleSource& source = i % 2 == 0 ? first : second;
    const std::string ref = registry.host() + (i % 3 == 0 ? "/team/small:v1" : "/team/big:v1");
    pulls.push_back(std::async(std::launch::async, [&source, ref] {
      return source.fetch(ref, PullPolicy::IfNotPresent);
    }));
  }
  for (auto& pull : pulls) {
    auto fetched = pull.get();
    ASSERT_TRUE(fetched) << fetched.error().message;
    const std::string bytes = test::read_file(fetched->file);
    EXPECT_TRUE(bytes == big || bytes == small);
  }
  // Each blob crossed the network once, whichever instance fetched it.
  EXPECT_EQ(first.stats().blob_fetches + second.stats().blob_fetches, 2u);
  EXPECT_TRUE(test::temp_files(cache_.path()).empty());
}

// Figures for docs/benchmarks.md; run with --gtest_also_run_disabled_tests.
TEST_F(RegistryTest, DISABLED_Benchmark) {
  Registry registry;
  spdlog::set_level(spdlog::level::warn);
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  for (const std::size_t size : {std::size_t{200} * 1024, std::size_t{20} << 20}) {
    const std::string wasm = fake_wasm(size, 21);
    const std::string ref = registry.host() + "/bench/m" + std::to_string(size) + ":v1";
    ASSERT_TRUE(push_command(settings(registry), module_file(wasm), ref));
    double cold = 0, warm = 0, warm_always = 0, hot = 0;
    const int rounds = 5;
    for (int round = 0; round < rounds; ++round) {
      TempDir cache;
      OciSettings s = settings(registry);
      s.cache_dir = cache.path();
      {
        OciModuleSource source(s);
        auto t = Clock::now();
        ASSERT_TRUE(source.fetch(ref, PullPolicy::IfNotPresent));
        cold += ms(Clock::now() - t);
        t = Clock::now();
        const int hot_rounds = 1000;
        for (int i = 0; i < hot_rounds; ++i)
          ASSERT_TRUE(source.fetch(ref, PullPolicy::IfNotPresent));
        hot += ms(Clock::now() - t) / hot_rounds;
      }
      {
        OciModuleSource source(s);  // a new process on a populated cache
        auto t = Clock::now();
        ASSERT_TRUE(source.fetch(ref, PullPolicy::IfNotPresent));
        warm += ms(Clock::now() - t);
      }
      {
        OciModuleSource source(s);
        auto t = Clock::now();
        ASSERT_TRUE(source.fetch(ref, PullPolicy::Always));  // tag re-resolved, blobs cached
        warm_always += ms(Clock::now() - t);
      }
    }
    std::printf("BENCH size=%zu cold=%.2fms warm=%.3fms warm_always=%.2fms hot=%.4fms\n", size,
                cold / rounds, warm / rounds, warm_always / rounds, hot / rounds);

    TempDir cache;
    OciSettings s = settings(registry);
    s.cache_dir = cache.path();
    OciModuleSource source(s);
    const auto t = Clock::now();
    std::vector<std::future<bool>> pulls;
    for (int i = 0; i < 16; ++i) {
      pulls.push_back(std::async(std::launch::async,
                                 [&] { return source.fetch(ref, PullPolicy::IfNotPresent).ok(); }));
    }
    for (auto& pull : pulls) ASSERT_TRUE(pull.get());
    std::printf("BENCH size=%zu single_flight_16_callers=%.2fms blob_fetches=%llu\n", size,
                ms(Clock::now() - t), static_cast<unsigned long long>(source.stats().blob_fetches));
  }
}

}  // namespace
}  // namespace wwp::oci
