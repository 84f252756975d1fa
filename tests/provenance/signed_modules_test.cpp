// Signed modules end to end: modules pushed with the plugin's CLI to a real docker-registry,
// signed by real cosign (`cosign sign --key`, no transparency log), run by the real plugin
// under each signature policy.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "../oci/registry_fixture.hpp"
#include "common/digest.hpp"
#include "oci/registry_client.hpp"
#include "plugin_process.hpp"
#include "provenance/cosign_signature.hpp"

using namespace wwp::testing;
namespace ot = wwp::oci::test;
namespace fs = std::filesystem;

namespace {

// One registry, two key pairs and three modules for the whole suite (cosign takes a second a
// signature; the registry is only read by the tests).
struct World {
  ot::TempDir dir;
  ot::Registry registry;
  fs::path key_a, pub_a, pub_b;
  std::string signed_ref, unsigned_ref, tampered_ref;
  wwp::Digest signed_digest, unsigned_digest;
};
World* world = nullptr;

ot::CommandResult must(const std::vector<std::string>& argv) {
  ot::CommandResult result = ot::run_command(argv);
  if (result.exit_code != 0) {
    throw std::runtime_error(argv[0] + " " + argv[1] + " failed: " + result.output);
  }
  return result;
}

wwp::Digest push(const fs::path& module, const std::string& ref) {
  const auto out = must({plugin_binary().string(), "push", "--insecure-oci-registries",
                         world->registry.host(), module.string(), ref});
  std::smatch match;
  if (!std::regex_search(out.output, match, std::regex("@sha256:([0-9a-f]{64})"))) {
    throw std::runtime_error("no digest in push output: " + out.output);
  }
  return wwp::Digest{match[1]};
}

// Copies the module `from_repo`@`manifest` to `to_repo`:v1 byte for byte (same digest), and its
// signature with the payload altered but the original signature kept: what an attacker who
// cannot sign can do.
void plant_tampered_copy(const std::string& from_repo, const std::string& to_repo,
                         const wwp::Digest& manifest) {
  using namespace wwp::oci;
  ClientOptions options;
  options.insecure_registries = {world->registry.host()};
  RegistryClient client(options);
  const auto deadline = wwp::deadline_in(std::chrono::seconds(20));
  auto from = parse_reference(world->registry.host() + "/" + from_repo);
  auto to = parse_reference(world->registry.host() + "/" + to_repo);
  httplib::Client http("127.0.0.1", world->registry.port());
  auto blob = [&](const std::string& digest) {
    auto res = http.Get("/v2/" + from_repo + "/blobs/" + digest);
    if (!res || res->status != 200) throw std::runtime_error("cannot read blob " + digest);
    return res->body;
  };
  auto upload = [&](const std::string& bytes) {
    if (!client.upload_blob(*to, bytes, wwp::sha256_of(bytes), deadline)) {
      throw std::runtime_error("cannot upload a blob to " + to_repo);
    }
  };
  // The module itself.
  auto module = client.get_manifest(*from, manifest.str(), deadline);
  if (!module) throw std::runtime_error("no module to copy: " + module.error().message);
  const nlohmann::json module_json = nlohmann::json::parse(module->bytes);
  upload(blob(module_json["config"]["digest"]));
  for (const auto& layer : module_json["layers"]) upload(blob(layer["digest"]));
  if (!client.put_manifest(*to, "v1", module->bytes, module_json["mediaType"].get<std::string>(),
                           deadline)) {
    throw std::runtime_error("cannot push the module copy");
  }
  // Its signature, tampered.
  const std::string tag = wwp::provenance::signature_tag(manifest);
  auto signature = client.get_manifest(*from, tag, deadline);
  if (!signature) throw std::runtime_error("no signature to copy: " + signature.error().message);
  nlohmann::json json = nlohmann::json::parse(signature->bytes);
  upload(blob(json["config"]["digest"]));
  std::string payload = blob(json["layers"][0]["digest"]);
  payload.replace(payload.find(from_repo), from_repo.size(), to_repo);
  upload(payload);
  json["layers"][0]["digest"] = wwp::sha256_of(payload).str();
  json["layers"][0]["size"] = payload.size();
  if (!client.put_manifest(*to, tag, json.dump(), json["mediaType"].get<std::string>(), deadline)) {
    throw std::runtime_error("cannot push the tampered signature manifest");
  }
}

class SignedModules : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world = new World();
    ::setenv("COSIGN_PASSWORD", "wwp-test-key-password", 1);
    for (const char* name : {"a", "b"}) {
      must({WWP_COSIGN, "generate-key-pair", "--output-key-prefix", (world->dir / name).string()});
    }
    world->key_a = world->dir / "a.key";
    world->pub_a = world->dir / "a.pub";
    world->pub_b = world->dir / "b.pub";
    const std::string host = world->registry.host();
    world->signed_ref = host + "/team/signed:v1";
    world->unsigned_ref = host + "/team/unsigned:v1";
    world->tampered_ref = host + "/team/tampered:v1";
    world->signed_digest = push(module_dir() / "greet.wasm", world->signed_ref);
    world->unsigned_digest = push(module_dir() / "hello.wasm", world->unsigned_ref);
    // The real signer. By digest, as cosign recommends.
    must({WWP_COSIGN, "sign", "--key", world->key_a.string(), "--tlog-upload=false", "--yes",
          "--allow-http-registry", "--allow-insecure-registry",
          host + "/team/signed@" + world->signed_digest.str()});
    plant_tampered_copy("team/signed", "team/tampered", world->signed_digest);
  }
  static void TearDownTestSuite() {
    delete world;
    world = nullptr;
  }

  static PluginProcess plugin(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--insecure-oci-registries", world->registry.host()};
    args.insert(args.end(), extra.begin(), extra.end());
    return PluginProcess(args);
  }
  static PluginProcess::Reply run(const PluginProcess& plugin, const std::string& ref) {
    Json tmpl = {{"name", "greet"},
                 {"plugin", {{"wasm", {{"module", {{"oci", ref}}}, {"args", {"signed"}}}}}}};
    return plugin.execute(tmpl, "uid-" + ref);
  }
  static std::string team() { return world->registry.host() + "/team"; }
};

TEST_F(SignedModules, RequireRunsModulesSignedByTheKeyAndFailsTheOthersNamingKeyAndDigest) {
  PluginProcess p =
      plugin({"--signature-key", world->pub_a.string(), "--signature-policy", team() + "=require"});
  auto good = run(p, world->signed_ref);
  EXPECT_EQ(good.body["node"]["phase"], "Succeeded") << good.raw << p.log();
  EXPECT_EQ(good.body["node"]["outputs"]["result"], "Hello, signed!") << good.raw;
  EXPECT_NE(p.log().find("is signed by key " + world->pub_a.string()), std::string::npos)
      << p.log();

  auto missing = run(p, world->unsigned_ref);
  EXPECT_EQ(missing.status, 200) << missing.raw;
  EXPECT_EQ(missing.body["node"]["phase"], "Failed") << missing.raw;
  const std::string missing_message = missing.body["node"]["message"];
  EXPECT_NE(missing_message.find(world->unsigned_digest.str()), std::string::npos)
      << missing_message;
  EXPECT_NE(missing_message.find(world->pub_a.string()), std::string::npos) << missing_message;
  EXPECT_NE(missing_message.find("no signature found"), std::string::npos) << missing_message;
  EXPECT_NE(missing_message.find("signature policy require for " + team()), std::string::npos)
      << missing_message;
  // The unverified module was not even downloaded into the cache.
  const wwp::Digest hello = wwp::sha256_of(ot::read_file(module_dir() / "hello.wasm"));
  EXPECT_FALSE(fs::exists(p.cache_dir() / "blobs" / "sha256" / hello.hex));

  auto tampered = run(p, world->tampered_ref);
  EXPECT_EQ(tampered.body["node"]["phase"], "Failed") << tampered.raw;
  const std::string tampered_message = tampered.body["node"]["message"];
  EXPECT_NE(tampered_message.find(world->signed_digest.str()), std::string::npos)
      << tampered_message;
  EXPECT_NE(tampered_message.find("its signature does not verify"), std::string::npos)
      << tampered_message;
}

TEST_F(SignedModules, RequireWithAnotherKeyFailsNamingThatKey) {
  PluginProcess p =
      plugin({"--signature-key", world->pub_b.string(), "--signature-policy", team() + "=require"});
  auto reply = run(p, world->signed_ref);
  EXPECT_EQ(reply.body["node"]["phase"], "Failed") << reply.raw;
  const std::string message = reply.body["node"]["message"];
  EXPECT_NE(message.find("signature of " + world->signed_digest.str() + " not verified with key " +
                         world->pub_b.string()),
            std::string::npos)
      << message;
  // Both keys trusted: the signature by either one is enough.
  PluginProcess both =
      plugin({"--signature-key", world->pub_b.string() + "," + world->pub_a.string(),
              "--signature-policy", team() + "=require"});
  EXPECT_EQ(run(both, world->signed_ref).body["node"]["phase"], "Succeeded") << both.log();
}

TEST_F(SignedModules, WarnLogsTheFailureAndRunsTheModule) {
  PluginProcess p =
      plugin({"--signature-key", world->pub_a.string(), "--signature-policy", team() + "=warn"});
  auto reply = run(p, world->unsigned_ref);
  EXPECT_EQ(reply.body["node"]["phase"], "Succeeded") << reply.raw;
  const std::string log = p.log();
  EXPECT_NE(log.find("signature of " + world->unsigned_digest.str() + " not verified with key " +
                     world->pub_a.string() + ": no signature found"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("signature policy warn for " + team() + ": running it anyway"),
            std::string::npos)
      << log;
  EXPECT_EQ(run(p, world->tampered_ref).body["node"]["phase"], "Succeeded");
  EXPECT_NE(p.log().find("its signature does not verify"), std::string::npos) << p.log();
}

TEST_F(SignedModules, OffSkipsTheCheckAndTheLongestPrefixDecides) {
  // From a policy file: everything is required, except one repository.
  const fs::path policy = world->dir / "policy.txt";
  ot::write_file(policy, "# provenance\n* require\n" + team() + "/unsigned off\n");
  PluginProcess p = plugin(
      {"--signature-key", world->pub_a.string(), "--signature-policy-file", policy.string()});
  auto unsigned_reply = run(p, world->unsigned_ref);
  EXPECT_EQ(unsigned_reply.body["node"]["phase"], "Succeeded") << unsigned_reply.raw;
  EXPECT_EQ(p.log().find(world->unsigned_digest.str()), std::string::npos) << p.log();
  EXPECT_EQ(run(p, world->signed_ref).body["node"]["phase"], "Succeeded") << p.log();
  EXPECT_EQ(run(p, world->tampered_ref).body["node"]["phase"], "Failed");
}

TEST_F(SignedModules, APolicyThatRequiresSignaturesNeedsAKey) {
  const auto result = ot::run_command(
      {plugin_binary().string(), "serve", "--insecure-no-token", "--port", "0", "--fs-cache-dir",
       (world->dir / "cache").string(), "--signature-policy", "ghcr.io/acme=require"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("--signature-policy asks for signatures but no --signature-key"),
            std::string::npos)
      << result.output;
  const auto bad_key =
      ot::run_command({plugin_binary().string(), "serve", "--insecure-no-token", "--port", "0",
                       "--fs-cache-dir", (world->dir / "cache").string(), "--signature-policy",
                       "ghcr.io/acme=require", "--signature-key", (world->dir / "a.key").string()});
  EXPECT_NE(bad_key.exit_code, 0);
  EXPECT_NE(bad_key.output.find("not a PEM public key"), std::string::npos) << bad_key.output;
}

}  // namespace
