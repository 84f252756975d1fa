// Registries and S3 servers that misbehave: a proxy in front of the real ones (docker-registry,
// versitygw) hangs mid-body, resets the connection mid-body, or answers garbage. Every step gets
// a clear answer (503 for the agent to retry, or a failed step saying why) within a bounded
// time, the plugin keeps serving, and the same plugin works again once the peer behaves.
#include <gtest/gtest.h>

#include <random>

#include "../artifacts/test_support.hpp"
#include "../oci/registry_fixture.hpp"
#include "fault_support.hpp"
#include "faulty_proxy.hpp"

using namespace wwp::testing;
using namespace wwp::faults::test;
using namespace std::chrono_literals;
using Mode = FaultyProxy::Mode;
namespace s3 = wwp::artifacts::test;

namespace {

struct Case {
  const char* name;
  Mode mode;
  std::size_t after_bytes;
};

void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

std::string case_name(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

const Case kCases[] = {{"HangMidBody", Mode::Hang, 8192},
                       {"ResetMidBody", Mode::Reset, 8192},
                       {"Garbage", Mode::Garbage, 0},
                       {"GarbageBody", Mode::GarbageBody, 0}};

// A clear answer: 503 (the agent retries) or a failed step with a message; never a success, a
// crash or silence.
void expect_clear_failure(const TimedReply& timed, std::chrono::seconds bound,
                          const std::string& log) {
  const auto& reply = timed.reply;
  ASSERT_NE(reply.status, 0) << "no answer; plugin log:\n" << log;
  if (reply.status == 200) {
    EXPECT_EQ(reply.body["node"]["phase"], "Failed") << reply.raw;
  } else {
    EXPECT_EQ(reply.status, 503) << reply.raw;
  }
  EXPECT_FALSE(message_of(reply).empty()) << reply.raw;
  EXPECT_LT(timed.took, bound) << message_of(reply);
}

}  // namespace

class MisbehavingRegistry : public ::testing::TestWithParam<Case> {};

TEST_P(MisbehavingRegistry, StepFailsClearlyInBoundedTimeAndRecovers) {
  wwp::oci::test::Registry registry;
  FaultyProxy proxy(registry.port());
  // Pushed through the proxy while it behaves, so that references name the proxy.
  const std::string ref = proxy.host() + "/team/greet:v1";
  ASSERT_EQ(
      wwp::oci::test::run_command({plugin_binary().string(), "push", "--insecure-oci-registries",
                                   proxy.host(), (module_dir() / "greet.wasm").string(), ref})
          .exit_code,
      0);
  // The call waits for the result rather than answering Running after 20 s.
  PluginProcess plugin({"--insecure-oci-registries", proxy.host(), "--requeue-wait", "55s"});
  Json tmpl = {{"name", "greet"},
               {"plugin", {{"wasm", {{"module", {{"oci", ref}}}, {"args", {"registry"}}}}}}};

  proxy.set_mode(GetParam().mode, GetParam().after_bytes);
  // The bound: a pull's 15 s budget, or for a blob that stops flowing the 30 s stall limit.
  const TimedReply broken = timed_execute(plugin, tmpl, "broken");
  expect_clear_failure(broken, 50s, plugin.log());
  EXPECT_GT(proxy.faults(), 0);
  const std::string message = message_of(broken.reply);
  EXPECT_NE(message.find(ref), std::string::npos) << message;  // names the module
  std::cout << GetParam().name << ": " << broken.reply.status << " after " << broken.took.count()
            << " ms: " << message << "\n";
  EXPECT_EQ(healthz(plugin.port()), 200);

  proxy.set_mode(Mode::Pass);
  const TimedReply fixed = timed_execute(plugin, tmpl, "fixed");
  ASSERT_EQ(fixed.reply.status, 200) << fixed.reply.raw;
  ASSERT_EQ(fixed.reply.body["node"]["phase"], "Succeeded") << fixed.reply.raw;
  EXPECT_EQ(fixed.reply.body["node"]["outputs"]["result"], "Hello, registry!") << fixed.reply.raw;
}

INSTANTIATE_TEST_SUITE_P(Faults, MisbehavingRegistry, ::testing::ValuesIn(kCases), case_name);

class MisbehavingS3 : public ::testing::TestWithParam<Case> {};

TEST_P(MisbehavingS3, StepFailsClearlyInBoundedTimeAndRecovers) {
  ProxiedS3 s3("wwp-faults-s3-");
  auto& [server, dir, proxy, settings] = s3;
  // An input object large enough to be cut mid-body (random bytes do not compress).
  std::string bytes(2 << 20, '\0');
  std::mt19937 rng(7);
  for (char& c : bytes) c = static_cast<char>(rng());
  s3::write_file(dir / "in" / "data.bin", bytes);
  ASSERT_EQ(s3::run("tar -czf " + s3::quote((dir / "in.tgz").string()) + " -C " +
                    s3::quote((dir / "in").string()) + " data.bin")
                .exit_code,
            0);
  server.put(dir / "in.tgz", "argo", "earlier/data.tgz");

  std::vector<std::string> args = s3.plugin_args();
  args.insert(args.end(), {"--requeue-wait", "55s"});
  PluginProcess plugin(args);
  Json tmpl = wasm_template(
      "upper.wasm", {{"args", {"/tmp/in.bin", "/tmp/out.bin"}}, {"limits", {{"timeout", "20s"}}}});
  tmpl["inputs"] = {
      {"artifacts",
       {{{"name", "data"}, {"path", "/tmp/in.bin"}, {"s3", {{"key", "earlier/data.tgz"}}}}}}};
  tmpl["outputs"] = {{"artifacts", {{{"name", "shouted"}, {"path", "/tmp/out.bin"}}}}};

  proxy.set_mode(GetParam().mode, GetParam().after_bytes);
  // The bound: the step's 20 s timeout covers its artifact transfers.
  const TimedReply broken = timed_execute(plugin, tmpl, "broken");
  expect_clear_failure(broken, 40s, plugin.log());
  EXPECT_GT(proxy.faults(), 0);
  const std::string message = message_of(broken.reply);
  std::cout << GetParam().name << ": " << broken.reply.status << " after " << broken.took.count()
            << " ms: " << message << "\n";
  EXPECT_NE(message.find("artifact"), std::string::npos) << message;  // names the artifact
  EXPECT_EQ(healthz(plugin.port()), 200);

  proxy.set_mode(Mode::Pass);
  const TimedReply fixed = timed_execute(plugin, tmpl, "fixed");
  ASSERT_EQ(fixed.reply.status, 200) << fixed.reply.raw;
  EXPECT_EQ(fixed.reply.body["node"]["phase"], "Succeeded") << fixed.reply.raw;
}

INSTANTIATE_TEST_SUITE_P(Faults, MisbehavingS3, ::testing::ValuesIn(kCases), case_name);

// An upload whose connection dies mid-body while the server sees a clean end of the request: an
// S3 server may store the bytes it got and answer 200 (versitygw 1.8 does, for UNSIGNED-PAYLOAD).
// The upload's SHA-256 is signed into the request, so the server refuses the short body instead
// and no torn object is ever readable.
TEST(MisbehavingS3Upload, ABodyCutShortIsNeverStored) {
  ProxiedS3 s3("wwp-faults-s3-cut-");
  auto& [server, dir, proxy, settings] = s3;
  PluginProcess plugin(s3.plugin_args());
  Json tmpl = wasm_template("fill_disk.wasm", {{"args", {"4"}}});
  tmpl["outputs"] = {{"artifacts",
                      {{{"name", "filled"},
                        {"path", "/tmp/fill"},
                        {"archive", {{"none", Json::object()}}},
                        {"s3", {{"key", "cut/filled.bin"}}}}}}};
  proxy.set_mode(Mode::CutRequest, 1 << 20);
  auto reply = plugin.execute(tmpl, "cut");
  EXPECT_GT(proxy.faults(), 0);
  EXPECT_NE(reply.body["node"]["phase"], "Succeeded") << reply.raw;
  EXPECT_FALSE(server.get("argo", "cut/filled.bin", dir / "got.bin").has_value())
      << "a torn object was stored";
  proxy.set_mode(Mode::Pass);
  reply = plugin.execute(tmpl, "whole");
  EXPECT_EQ(reply.body["node"]["phase"], "Succeeded") << reply.raw;
  auto fetched = server.get("argo", "cut/filled.bin", dir / "got.bin");
  ASSERT_TRUE(fetched.has_value());
  EXPECT_EQ(std::filesystem::file_size(*fetched), std::uintmax_t{4} << 20);
}
