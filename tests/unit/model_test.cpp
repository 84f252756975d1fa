#include <gtest/gtest.h>

#include "common/digest.hpp"
#include "common/units.hpp"
#include "model/legacy_abi.hpp"
#include "model/node_result.hpp"
#include "model/template.hpp"

using namespace wwp;
using namespace wwp::model;

namespace {

Json request_with(Json wasm) {
  return {{"workflow", {{"metadata", {{"name", "wf"}, {"namespace", "argo"}, {"uid", "uid-1"}}}}},
          {"template", {{"name", "step"}, {"plugin", {{"wasm", std::move(wasm)}}}}}};
}

std::string error_of(const Json& body) {
  auto parsed = parse_execute_request(body);
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? "" : parsed.error().message;
}

}  // namespace

TEST(ExecuteRequest, TemplateOfAnotherPluginIsNotOurs) {
  auto parsed = parse_execute_request(
      Json{{"workflow", {{"metadata", {{"name", "wf"}}}}},
           {"template", {{"name", "x"}, {"plugin", {{"slack", {{"text", "hi"}}}}}}}});
  ASSERT_TRUE(parsed.ok());
  EXPECT_FALSE(parsed->tmpl.has_value());
}

TEST(ExecuteRequest, ParsesModuleArgsEnvLimitsAndOptions) {
  Json wasm = {{"module", {{"path", "hello.wasm"}}},
               {"args", {"--name", 42}},
               {"env", {{"COLOR", "blue"}}},
               {"limits", {{"timeout", "1m30s"}, {"memory", "64Mi"}, {"disk", "2Gi"}}},
               {"greeting", "hi"}};
  Json body = request_with(wasm);
  body["template"]["inputs"] = {{"parameters", {{{"name", "name"}, {"value", "Argo"}}}}};
  body["template"]["outputs"] = {
      {"parameters", {{{"name", "out"}, {"valueFrom", {{"path", "/tmp/out"}, {"default", "d"}}}}}}};
  auto parsed = parse_execute_request(body);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const Template& t = *parsed->tmpl;
  EXPECT_EQ(t.wasm.module.kind, ModuleRef::Kind::Path);
  EXPECT_EQ(t.wasm.module.location, "hello.wasm");
  EXPECT_EQ(t.wasm.args, (std::vector<std::string>{"--name", "42"}));
  ASSERT_EQ(t.wasm.env.size(), 1u);
  EXPECT_EQ(t.wasm.env[0].second, "blue");
  EXPECT_EQ(t.wasm.limits.timeout->count(), 90000);
  EXPECT_EQ(*t.wasm.limits.memory_bytes, 64u << 20);
  EXPECT_EQ(*t.wasm.limits.disk_bytes, 2ull << 30);
  ASSERT_EQ(t.wasm.plugin_options.size(), 1u);
  EXPECT_EQ(t.wasm.plugin_options[0].first, "greeting");
  ASSERT_EQ(t.output_parameters.size(), 1u);
  EXPECT_EQ(*t.output_parameters[0].value_from_path, "/tmp/out");
  EXPECT_EQ(*t.output_parameters[0].value_from_default, "d");
  EXPECT_EQ(parsed->step_key.rfind("uid-1/", 0), 0u);
}

TEST(ExecuteRequest, SameTemplateSameStepKey) {
  Json body = request_with({{"module", {{"path", "a.wasm"}}}});
  auto a = parse_execute_request(body);
  auto b = parse_execute_request(body);
  body["template"]["plugin"]["wasm"]["args"] = {"x"};
  auto c = parse_execute_request(body);
  EXPECT_EQ(a->step_key, b->step_key);
  EXPECT_NE(a->step_key, c->step_key);
}

TEST(ExecuteBody, StepKeyHashesTheTemplateAsSent) {
  // The agent's bytes, with its field order and spacing: the key hashes them as they are.
  const std::string tmpl =
      R"({"name":"s","plugin":{"wasm":{"module":{"path":"a.wasm"},"args":["}{\"x"]}}})";
  const std::string body =
      R"({"workflow":{"metadata":{"uid":"u-9","name":"wf"}}, "template" : )" + tmpl + "}";
  auto a = parse_execute_body(body);
  auto b = parse_execute_body(body);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->step_key, "u-9/" + sha256_of(tmpl).hex);
  EXPECT_EQ(a->step_key, b->step_key);
  EXPECT_EQ(a->template_json, Json::parse(tmpl));
  // Another step of the same workflow differs; so does the same template in another workflow.
  std::string other = body;
  other.replace(other.find("a.wasm"), 6, "b.wasm");
  EXPECT_NE(parse_execute_body(other)->step_key, a->step_key);
  std::string rerun = body;
  rerun.replace(rerun.find("u-9"), 3, "u-8");
  EXPECT_EQ(parse_execute_body(rerun)->step_key, "u-8/" + sha256_of(tmpl).hex);
}

TEST(RawMember, FindsTheValueBytesTheParserReads) {
  EXPECT_EQ(raw_member(R"({"a":1,"t":{"x":"}\"{"},"b":[]})", "t"), R"({"x":"}\"{"})");
  EXPECT_EQ(raw_member(" {\n\"t\" :\t[1, {\"t\": 2}] }", "t"), "[1, {\"t\": 2}]");
  EXPECT_EQ(raw_member(R"({"t":"v"})", "t"), R"("v")");
  EXPECT_EQ(raw_member(R"({"t":-1.5e3})", "t"), "-1.5e3");
  EXPECT_EQ(raw_member("\xEF\xBB\xBF{\"t\":null}", "t"), "null");
  // Duplicate keys: nlohmann keeps the last, and the bytes must be that one's.
  EXPECT_EQ(raw_member(R"({"t":1,"t":2})", "t"), "2");
  EXPECT_EQ(Json::parse(R"({"t":1,"t":2})")["t"], 2);
  EXPECT_EQ(raw_member(R"({"a":{"t":1}})", "t"), std::nullopt);  // only top-level members
  EXPECT_EQ(raw_member(R"({})", "t"), std::nullopt);
  EXPECT_EQ(raw_member(R"([1])", "t"), std::nullopt);
  // An escaped key might spell "t": no bytes, the caller serialises the tree instead.
  EXPECT_EQ(raw_member(R"({"\u0074":1})", "t"), std::nullopt);
  auto escaped =
      parse_execute_body(R"({"\u0074emplate":{"plugin":{"wasm":{"module":{"path":"a"}}}}})");
  ASSERT_TRUE(escaped.ok()) << escaped.error().message;
  EXPECT_EQ(escaped->step_key, "/" + sha256_of(escaped->template_json.dump()).hex);
}

TEST(ExecuteRequest, ErrorsNameTheField) {
  EXPECT_EQ(error_of(request_with({{"module", {{"path", "a.wasm"}}}, {"args", "not-a-list"}})),
            "template.plugin.wasm.args: expected a list, got string");
  EXPECT_EQ(error_of(request_with({{"args", {"x"}}})),
            "template.plugin.wasm.module: is required (one of path, url or oci)");
  EXPECT_EQ(
      error_of(request_with({{"module", {{"url", "https://example.com/m.wasm"}}}})),
      "template.plugin.wasm.module.sha256: is required with url (the module's SHA-256 digest)");
  EXPECT_EQ(error_of(request_with({{"module", {{"path", "a"}, {"oci", "b"}}}})),
            "template.plugin.wasm.module: give only one of path, url or oci");
  EXPECT_NE(error_of(request_with({{"module", {{"path", "a"}}}, {"limits", {{"timeout", "soon"}}}}))
                .find("template.plugin.wasm.limits.timeout: invalid duration \"soon\""),
            std::string::npos);
  EXPECT_EQ(error_of(request_with({{"module", {{"path", "a"}}}, {"limits", {{"cpu", 1}}}})),
            "template.plugin.wasm.limits.cpu: unknown limit (known: timeout, memory, disk)");
  EXPECT_EQ(error_of(request_with({{"module", {{"path", "a"}}}, {"limits", {{"disk", "0"}}}})),
            "template.plugin.wasm.limits.disk: must be positive");
  EXPECT_NE(error_of(request_with({{"module", {{"path", "a"}}}, {"limits", {{"disk", "lots"}}}}))
                .find("template.plugin.wasm.limits.disk"),
            std::string::npos);
  EXPECT_EQ(error_of(request_with({{"module", {{"path", "a"}}}, {"env", {{"A", {1, 2}}}}})),
            "template.plugin.wasm.env.A: expected a string, got array");
  Json bad_param = request_with({{"module", {{"path", "a"}}}});
  bad_param["template"]["inputs"] = {{"parameters", {{{"value", "x"}}}}};
  EXPECT_EQ(error_of(bad_param), "template.inputs.parameters[0].name: is required");
  EXPECT_EQ(parse_execute_body("{not json").error().message, "request body is not valid JSON");
}

TEST(ExecuteRequest, EarlierImplementationImageKeyIsAnOciModule) {
  auto parsed = parse_execute_request(request_with({{"image", "ghcr.io/org/mod:1"}}));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->tmpl->wasm.module.kind, ModuleRef::Kind::Oci);
  EXPECT_EQ(parsed->tmpl->wasm.module.location, "ghcr.io/org/mod:1");
}

TEST(Substitute, InputsAndWorkflowFields) {
  Template t;
  t.input_parameters.push_back({"who", "Argo", std::nullopt, std::nullopt, std::nullopt});
  t.input_parameters.push_back({"n", std::nullopt, "7", std::nullopt, std::nullopt});
  WorkflowMeta wf{"wf-1", "ns", "u"};
  EXPECT_EQ(
      substitute("hi {{inputs.parameters.who}} {{ inputs.parameters.n }} in {{workflow.name}}", t,
                 wf),
      "hi Argo 7 in wf-1");
  EXPECT_EQ(substitute("{{steps.x.outputs.result}}", t, wf), "{{steps.x.outputs.result}}");
  EXPECT_EQ(substitute("unclosed {{", t, wf), "unclosed {{");
  // Bounded: gives up before building a result past the limit.
  EXPECT_EQ(substitute("{{workflow.name}}", t, wf, 100), wf.name);
  EXPECT_EQ(substitute("{{workflow.name}}{{workflow.name}}", t, wf, 2 * wf.name.size() - 1),
            std::nullopt);
  EXPECT_EQ(substitute("no braces but long", t, wf, 3), std::nullopt);
}

TEST(Units, Durations) {
  EXPECT_EQ(parse_duration("30s")->count(), 30000);
  EXPECT_EQ(parse_duration("1h2m3s")->count(), 3723000);
  EXPECT_EQ(parse_duration("250ms")->count(), 250);
  EXPECT_EQ(parse_duration("1.5s")->count(), 1500);
  EXPECT_EQ(parse_duration("12")->count(), 12000);
  EXPECT_FALSE(parse_duration("").ok());
  EXPECT_FALSE(parse_duration("5 s").ok());
  EXPECT_FALSE(parse_duration("5d").ok());
  EXPECT_EQ(format_duration(std::chrono::milliseconds(5000)), "5s");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(90000)), "1m30s");
  EXPECT_EQ(format_duration(std::chrono::milliseconds(250)), "250ms");
}

TEST(Units, Quantities) {
  EXPECT_EQ(*parse_quantity("128Mi"), 128u << 20);
  EXPECT_EQ(*parse_quantity("1Gi"), 1ull << 30);
  EXPECT_EQ(*parse_quantity("500M"), 500000000u);
  EXPECT_EQ(*parse_quantity("4096"), 4096u);
  EXPECT_FALSE(parse_quantity("12 MB").ok());
  EXPECT_FALSE(parse_quantity("lots").ok());
  EXPECT_EQ(format_quantity(1 << 20), "1Mi");
  EXPECT_EQ(format_quantity(1000), "1000");
}

TEST(NodeResultJson, ArgoShape) {
  ExecuteReply reply;
  reply.node.phase = Phase::Succeeded;
  reply.node.outputs.result = "hello";
  reply.node.outputs.exit_code = 0;
  reply.node.outputs.parameters.push_back({"p", "v"});
  Json json = to_json(reply);
  EXPECT_EQ(json["node"]["phase"], "Succeeded");
  EXPECT_EQ(json["node"]["outputs"]["result"], "hello");
  EXPECT_EQ(json["node"]["outputs"]["exitCode"], "0");  // a string in Argo's Outputs
  EXPECT_EQ(json["node"]["outputs"]["parameters"][0]["value"], "v");
  EXPECT_FALSE(json.contains("requeue"));
  reply.requeue = std::chrono::milliseconds(5000);
  EXPECT_EQ(to_json(reply)["requeue"], "5s");
}

TEST(LegacyAbi, InvocationCarriesParametersOptionsAndArtifacts) {
  Template t;
  t.input_parameters.push_back({"text", "Hello", std::nullopt, std::nullopt, std::nullopt});
  t.wasm.plugin_options.emplace_back("my option", 42);
  Artifact a;
  a.name = "data";
  a.path = "/tmp/data";
  t.input_artifacts.push_back(a);
  Artifact unplaced;
  unplaced.name = "extra";
  t.input_artifacts.push_back(unplaced);
  Json inv = make_invocation(t, {"My Workflow", "ns", "u"});
  EXPECT_EQ(inv["workflow_name"], "My Workflow");
  EXPECT_EQ(inv["plugin_options"][0]["value"], 42);
  EXPECT_EQ(inv["parameters"][0]["value"], "Hello");
  // The declared path, as the earlier plugin passed it: its SDK reads
  // /work/artifacts-in/tmp/data, where the file is too.
  EXPECT_EQ(inv["artifacts"][0]["path"], "/tmp/data");
  EXPECT_EQ(inv["artifacts"][1]["path"], "/work/artifacts-in/extra");
  EXPECT_EQ(legacy_input_path("/input.jpg"), "/work/artifacts-in/input.jpg");
  EXPECT_EQ(legacy_input_path("a/b"), "/work/artifacts-in/a/b");
  EXPECT_EQ(legacy_output_path("//out.png"), "/work/artifacts-out/out.png");
}

TEST(LegacyAbi, ModuleReport) {
  auto report = parse_module_report(
      R"({"phase":"Succeeded","message":"ok","outputs":{"artifacts":[],"parameters":[{"name":"n","value":42}]}})");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->phase, Phase::Succeeded);
  EXPECT_EQ(report->parameters[0].value, "42");  // numbers become text, as Argo wants strings
  EXPECT_EQ(parse_module_report("nope").error().message, "result.json is not valid JSON");
  EXPECT_EQ(parse_module_report(R"({"phase":"Done"})").error().message,
            "result.json: phase: expected Succeeded or Failed, got \"Done\"");
  EXPECT_EQ(parse_module_report(R"({"outputs":{"parameters":[{"value":1}]}})").error().message,
            "result.json: outputs.parameters[0].name: is required");
}

TEST(ExecuteBody, DeepNestingIsRefusedBeforeATreeIsBuilt) {
  // 60,000 levels inside the template used to overflow the stack when the template was hashed.
  const std::size_t depth = 60000;
  Json body = request_with({{"module", {{"path", "hello.wasm"}}}});
  std::string text = body.dump();
  const std::string deep = std::string(depth, '[') + std::string(depth, ']');
  text.insert(text.rfind('}'), ",\"deep\":" + deep);
  auto parsed = parse_execute_body(text);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("nested deeper than 128 levels"), std::string::npos)
      << parsed.error().message;
  auto deep_objects = parse_json(std::string(depth, '{') + "", "x");
  EXPECT_FALSE(deep_objects.ok());
  // At the limit is fine; one more level is not.
  EXPECT_TRUE(
      parse_json(std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']'), "x").ok());
  EXPECT_FALSE(
      parse_json(std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']'), "x")
          .ok());
  EXPECT_EQ(parse_json("{\"a\":", "request body").error().message,
            "request body is not valid JSON");
  // A module's result.json goes through the same bound.
  EXPECT_FALSE(parse_module_report("{\"outputs\":" + deep + "}").ok());
}

TEST(ExecuteRequest, NulAndMalformedEnvironmentAreRefused) {
  const std::string nul("a\0b", 3);
  EXPECT_NE(error_of(request_with({{"module", {{"path", "hello.wasm" + nul}}}}))
                .find("template.plugin.wasm.module.path: must not contain a NUL"),
            std::string::npos);
  Json module = {{"path", "hello.wasm"}};
  EXPECT_NE(error_of(request_with({{"module", module}, {"args", {"ok", nul}}}))
                .find("template.plugin.wasm.args[1]: must not contain a NUL"),
            std::string::npos);
  EXPECT_NE(error_of(request_with({{"module", module}, {"env", {{"A", nul}}}}))
                .find("template.plugin.wasm.env.A: must not contain a NUL"),
            std::string::npos);
  EXPECT_NE(error_of(request_with({{"module", module}, {"env", {{"", "x"}}}}))
                .find("template.plugin.wasm.env: a variable name is empty"),
            std::string::npos);
  EXPECT_NE(error_of(request_with({{"module", module}, {"env", {{"A=B", "x"}}}}))
                .find("template.plugin.wasm.env.A=B: a variable name must not contain '='"),
            std::string::npos);
  Json with_parameter = request_with({{"module", module}, {"args", {"{{inputs.parameters.p}}"}}});
  with_parameter["template"]["inputs"]["parameters"] = {{{"name", "p"}, {"value", nul}}};
  EXPECT_NE(
      error_of(with_parameter).find("template.inputs.parameters[0].value: must not contain a NUL"),
      std::string::npos);
  EXPECT_NE(error_of(request_with({{"module", module}, {"env", {{nul, "x"}}}}))
                .find("a variable name contains a NUL"),
            std::string::npos);
}

TEST(ExecuteRequest, HugeLimitsAreTooLargeNotNegative) {
  Json module = {{"path", "hello.wasm"}};
  auto timeout = error_of(
      request_with({{"module", module}, {"limits", {{"timeout", "99999999999999999999999h"}}}}));
  EXPECT_NE(timeout.find("template.plugin.wasm.limits.timeout"), std::string::npos) << timeout;
  EXPECT_NE(timeout.find("too large"), std::string::npos) << timeout;
  auto memory =
      error_of(request_with({{"module", module}, {"limits", {{"memory", "99999999999Ti"}}}}));
  EXPECT_NE(memory.find("too large"), std::string::npos) << memory;
}

TEST(Units, TooLargeValuesSaySo) {
  EXPECT_NE(parse_duration("9999999999999999h").error().message.find("too large"),
            std::string::npos);
  EXPECT_NE(parse_duration(std::string(400, '9')).error().message.find("too large"),
            std::string::npos);
  EXPECT_EQ(parse_duration("1000000h")->count(), 3600000000000LL);  // still representable
  EXPECT_NE(parse_quantity("20000000000000000000").error().message.find("too large"),
            std::string::npos);
  EXPECT_EQ(*parse_quantity("16000000000000000000"), 16000000000000000000ULL);
}
