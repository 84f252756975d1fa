// RepositoryArtifactService end to end: a real S3 server (versitygw), objects written and read by
// awscli and GNU tar the way argoexec's container steps would, and a sandbox directory per step.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <thread>

#include "artifacts/factory.hpp"
#include "test_support.hpp"

namespace wwp::artifacts::test {
namespace {

using model::Json;

model::Artifact artifact(const Json& json) {
  auto parsed = model::parse_artifact(json, "artifact");
  if (!parsed) throw std::runtime_error(parsed.error().message);
  return *parsed;
}

model::Template with_inputs(std::vector<Json> inputs) {
  model::Template tmpl;
  tmpl.name = "consume";
  for (const auto& json : inputs) tmpl.input_artifacts.push_back(artifact(json));
  return tmpl;
}

model::Template with_outputs(std::vector<Json> outputs) {
  model::Template tmpl;
  tmpl.name = "produce";
  for (const auto& json : outputs) tmpl.output_artifacts.push_back(artifact(json));
  return tmpl;
}

const StepContext kStep{{"wf-1", "argo", "uid-1"}, "produce", "uid-1/sha256:0123"};

std::unique_ptr<ArtifactService> make(ArtifactSettings settings) {
  auto service = make_artifact_service(std::move(settings));
  if (!service) throw std::runtime_error(service.error().message);
  return std::move(*service);
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server.make_bucket("artifacts");
    service = make(settings_for(server, config, "artifacts"));
  }

  // A tarball as a container step's wait sidecar makes it: tar+gzip of the file or directory.
  fs::path tarball_of(const fs::path& parent, const std::string& name) {
    fs::path out = files / (name + ".tgz");
    auto result = run("tar -czf " + quote(out.string()) + " -C " + quote(parent.string()) + " " +
                      quote(name));
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return out;
  }

  Json s3_full(const std::string& key) const {
    return {{"endpoint", server.endpoint()},
            {"bucket", "artifacts"},
            {"insecure", true},
            {"key", key},
            {"accessKeySecret", {{"name", "my-s3-credentials"}, {"key", "accessKey"}}},
            {"secretKeySecret", {{"name", "my-s3-credentials"}, {"key", "secretKey"}}}};
  }

  S3Server server;
  ScratchDir config{"wwp-config-"};
  ScratchDir files{"wwp-files-"};
  ScratchDir sandbox{"wwp-sandbox-"};
  std::unique_ptr<ArtifactService> service;
};

// ---- inputs ----

TEST_F(ServiceTest, StagesWhatContainerStepsUploaded) {
  write_file(files / "src/hello.txt", "hello from a container\n");
  write_file(files / "src/data/a.txt", "A");
  write_file(files / "src/data/sub/b.txt", "B");
  write_file(files / "raw.bin", "plain bytes, not an archive");
  server.put(tarball_of(files / "src", "hello.txt"), "artifacts", "wf-0/pod-a/hello.tgz");
  server.put(tarball_of(files / "src", "data"), "artifacts", "wf-0/pod-a/data.tgz");
  server.put(files / "raw.bin", "artifacts", "wf-0/pod-a/raw.bin");
  server.put(files / "hello.txt.tgz", "artifacts", "wf-0/pod-a/kept.tgz");

  auto tmpl = with_inputs({
      // key-only, as the controller passes outputs of an earlier step
      {{"name", "hello"}, {"path", "/tmp/in.txt"}, {"s3", {{"key", "wf-0/pod-a/hello.tgz"}}}},
      {{"name", "data"}, {"path", "/data/in"}, {"s3", {{"key", "wf-0/pod-a/data.tgz"}}}},
      // a full location with its own Secret references
      {{"name", "raw"}, {"path", "/tmp/raw.bin"}, {"s3", s3_full("wf-0/pod-a/raw.bin")}},
      // archive: none keeps a tarball as it is
      {{"name", "kept"},
       {"path", "/tmp/kept.tgz"},
       {"archive", {{"none", Json::object()}}},
       {"s3", {{"key", "wf-0/pod-a/kept.tgz"}}}},
  });
  auto staged = service->stage_inputs(tmpl, sandbox.path(), kStep);
  ASSERT_TRUE(staged) << staged.error().message;

  EXPECT_EQ(read_file(sandbox / "tmp/in.txt"), "hello from a container\n");
  EXPECT_EQ(read_file(sandbox / "data/in/a.txt"), "A");
  EXPECT_EQ(read_file(sandbox / "data/in/sub/b.txt"), "B");
  EXPECT_EQ(read_file(sandbox / "tmp/raw.bin"), "plain bytes, not an archive");
  EXPECT_EQ(read_file(sandbox / "tmp/kept.tgz"), read_file(files / "hello.txt.tgz"));
  // The earlier SDK's location, /work/artifacts-in/<declared path>, holds the same files,
  // hard-linked; nothing is placed by name any more (the earlier plugin never did).
  EXPECT_EQ(read_file(sandbox / "work/artifacts-in/tmp/in.txt"), "hello from a container\n");
  EXPECT_EQ(read_file(sandbox / "work/artifacts-in/data/in/sub/b.txt"), "B");
  EXPECT_FALSE(fs::exists(sandbox / "work/artifacts-in/hello"));
  struct stat a {
  }, b{};
  ASSERT_EQ(::stat((sandbox / "tmp/in.txt").c_str(), &a), 0);
  ASSERT_EQ(::stat((sandbox / "work/artifacts-in/tmp/in.txt").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  // Nothing of the staging area is left for the module to see.
  for (const auto& entry : fs::directory_iterator(sandbox.path())) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".wwp")) << entry.path();
  }
}

TEST_F(ServiceTest, InputWithoutPathGoesToArtifactsInOnly) {
  write_file(files / "x.txt", "x");
  server.put(files / "x.txt", "artifacts", "k/x.txt");
  auto tmpl = with_inputs({{{"name", "x"}, {"s3", {{"key", "k/x.txt"}}}}});
  ASSERT_TRUE(service->stage_inputs(tmpl, sandbox.path(), kStep));
  EXPECT_EQ(read_file(sandbox / "work/artifacts-in/x"), "x");
}

TEST_F(ServiceTest, DirectoryStoredAsObjectsUnderAPrefix) {
  // argoexec uploads `archive: none` directories as one object per file.
  write_file(files / "f1", "one");
  write_file(files / "f2", "two");
  server.put(files / "f1", "artifacts", "wf-0/pod-a/tree/f1");
  server.put(files / "f2", "artifacts", "wf-0/pod-a/tree/sub/f2");
  auto tmpl =
      with_inputs({{{"name", "tree"}, {"path", "/in/tree"}, {"s3", {{"key", "wf-0/pod-a/tree"}}}}});
  auto staged = service->stage_inputs(tmpl, sandbox.path(), kStep);
  ASSERT_TRUE(staged) << staged.error().message;
  EXPECT_EQ(read_file(sandbox / "in/tree/f1"), "one");
  EXPECT_EQ(read_file(sandbox / "in/tree/sub/f2"), "two");
}

TEST_F(ServiceTest, ModeIsApplied) {
  write_file(files / "tool.sh", "#!/bin/sh\n");
  server.put(files / "tool.sh", "artifacts", "tool.sh");
  auto tmpl = with_inputs(
      {{{"name", "tool"}, {"path", "/bin/tool"}, {"mode", 0755}, {"s3", {{"key", "tool.sh"}}}}});
  ASSERT_TRUE(service->stage_inputs(tmpl, sandbox.path(), kStep));
  EXPECT_EQ(fs::status(sandbox / "bin/tool").permissions() & fs::perms::all,
            static_cast<fs::perms>(0755));

  write_file(files / "src/conf/a", "a");
  write_file(files / "src/conf/sub/b", "b");
  server.put(tarball_of(files / "src", "conf"), "artifacts", "conf.tgz");
  auto recursive = with_inputs({{{"name", "conf"},
                                 {"path", "/conf"},
                                 {"mode", 0700},
                                 {"recurseMode", true},
                                 {"s3", {{"key", "conf.tgz"}}}}});
  auto staged = service->stage_inputs(recursive, sandbox.path(), kStep);
  ASSERT_TRUE(staged) << staged.error().message;
  for (const char* path : {"conf", "conf/a", "conf/sub", "conf/sub/b"}) {
    EXPECT_EQ(fs::status(sandbox / path).permissions() & fs::perms::all,
              static_cast<fs::perms>(0700))
        << path;
  }
}

TEST_F(ServiceTest, MissingObjectMessageAndOptional) {
  auto tmpl =
      with_inputs({{{"name", "hello"}, {"path", "/tmp/in"}, {"s3", {{"key", "no/such.tgz"}}}}});
  auto staged = service->stage_inputs(tmpl, sandbox.path(), kStep);
  ASSERT_FALSE(staged);
  EXPECT_EQ(staged.error().kind, ErrorKind::NotFound);
  EXPECT_EQ(staged.error().message, "input artifact hello not found at s3://artifacts/no/such.tgz");

  auto optional = with_inputs({{{"name", "hello"},
                                {"path", "/tmp/in"},
                                {"optional", true},
                                {"s3", {{"key", "no/such.tgz"}}}},
                               {{"name", "absent"}, {"path", "/tmp/absent"}, {"optional", true}}});
  auto skipped = service->stage_inputs(optional, sandbox.path(), kStep);
  ASSERT_TRUE(skipped) << skipped.error().message;
  EXPECT_FALSE(fs::exists(sandbox / "tmp/in"));
}

TEST_F(ServiceTest, RawAndHttpInputs) {
  httplib::Server web;
  web.Get("/file.txt", [](const httplib::Request& request, httplib::Response& response) {
    if (request.get_header_value("X-Token") != "secret") {
      response.status = 403;
      return;
    }
    response.set_content("served over http", "text/plain");
  });
  web.Get("/moved", [](const httplib::Request&, httplib::Response& response) {
    response.set_redirect("/file.txt");
  });
  int port = web.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { web.listen_after_bind(); });
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  Json headers = Json::array({{{"name", "X-Token"}, {"value", "secret"}}});

  auto tmpl = with_inputs({
      {{"name", "raw"}, {"path", "/etc/config.json"}, {"raw", {{"data", "{\"a\": 1}"}}}},
      {{"name", "web"},
       {"path", "/tmp/web.txt"},
       {"http", {{"url", base + "/file.txt"}, {"headers", headers}}}},
      {{"name", "moved"},
       {"path", "/tmp/moved.txt"},
       {"http", {{"url", base + "/moved"}, {"headers", headers}}}},
  });
  auto staged = service->stage_inputs(tmpl, sandbox.path(), kStep);
  EXPECT_TRUE(staged) << staged.error().message;
  EXPECT_EQ(read_file(sandbox / "etc/config.json"), "{\"a\": 1}");
  EXPECT_EQ(read_file(sandbox / "tmp/web.txt"), "served over http");
  EXPECT_EQ(read_file(sandbox / "tmp/moved.txt"), "served over http");
  EXPECT_EQ(read_file(sandbox / "work/artifacts-in/etc/config.json"), "{\"a\": 1}");

  auto missing = with_inputs({{{"name", "gone"}, {"http", {{"url", base + "/nope?sig=abc"}}}}});
  auto failed = service->stage_inputs(missing, sandbox.path(), kStep);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, "input artifact gone not found at " + base + "/nope");
  web.stop();
  thread.join();
}

TEST(ServiceWithoutRepository, RawWorksAndS3SaysWhatIsMissing) {
  ScratchDir sandbox;
  auto service = make(ArtifactSettings{});
  auto raw = with_inputs({{{"name", "raw"}, {"path", "/a.txt"}, {"raw", {{"data", "data"}}}}});
  ASSERT_TRUE(service->stage_inputs(raw, sandbox.path(), kStep));
  EXPECT_EQ(read_file(sandbox / "a.txt"), "data");

  auto s3 = with_inputs({{{"name", "in"}, {"s3", {{"key", "k.tgz"}}}}});
  auto failed = service->stage_inputs(s3, sandbox.path(), kStep);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("input artifact in: no artifact repository configured"),
            std::string::npos)
      << failed.error().message;

  write_file(sandbox / "out.txt", "x");
  auto out = service->collect_outputs(with_outputs({{{"name", "out"}, {"path", "/out.txt"}}}), {},
                                      sandbox.path(), kStep);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("output artifact out: no artifact repository configured"),
            std::string::npos)
      << out.error().message;
}

TEST_F(ServiceTest, UnsupportedArtifactTypes) {
  auto tmpl =
      with_inputs({{{"name", "src"}, {"path", "/src"}, {"git", {{"repo", "https://x/y.git"}}}}});
  auto staged = service->stage_inputs(tmpl, sandbox.path(), kStep);
  ASSERT_FALSE(staged);
  EXPECT_EQ(staged.error().message, "input artifact src: artifact type git is not supported");
}

TEST_F(ServiceTest, InputEscapesAreRefused) {
  ScratchDir outside;
  write_file(files / "x", "x");
  server.put(files / "x", "artifacts", "x");

  auto dotdot =
      with_inputs({{{"name", "a"}, {"path", "/tmp/../../etc/passwd"}, {"s3", {{"key", "x"}}}}});
  auto r1 = service->stage_inputs(dotdot, sandbox.path(), kStep);
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().kind, ErrorKind::InvalidRequest);  // the template is at fault
  EXPECT_NE(r1.error().message.find("input artifact a: /tmp/../../etc/passwd: contains '..'"),
            std::string::npos)
      << r1.error().message;

  fs::create_directory_symlink(outside.path(), sandbox / "tmp");
  auto through_link = with_inputs({{{"name", "b"}, {"path", "/tmp/x"}, {"s3", {{"key", "x"}}}}});
  auto r2 = service->stage_inputs(through_link, sandbox.path(), kStep);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().kind, ErrorKind::Failed);  // the filesystem is
  EXPECT_NE(r2.error().message.find("points outside the sandbox"), std::string::npos)
      << r2.error().message;
  EXPECT_TRUE(fs::is_empty(outside.path()));
}

TEST_F(ServiceTest, EscapingTarEntryFromTheRepositoryIsRefused) {
  // GNU tar writes "../x" when asked with -P; argoexec would refuse it too.
  write_file(files / "inner/x", "pwned");
  auto made =
      run("cd " + quote((files / "inner").string()) + " && tar -czPf ../evil.tgz ../inner/x");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  ASSERT_NE(run("tar -tzf " + quote((files / "evil.tgz").string())).output.find("../"),
            std::string::npos);
  server.put(files / "evil.tgz", "artifacts", "evil.tgz");
  auto tmpl =
      with_inputs({{{"name", "evil"}, {"path", "/in/evil"}, {"s3", {{"key", "evil.tgz"}}}}});
  auto staged = service->stage_inputs(tmpl, sandbox.path(), kStep);
  ASSERT_FALSE(staged);
  EXPECT_NE(staged.error().message.find("input artifact evil: archive entry ../inner/x escapes"),
            std::string::npos)
      << staged.error().message;
  EXPECT_FALSE(fs::exists(sandbox / "inner"));
}

TEST_F(ServiceTest, TarBombFromTheRepositoryHitsTheLimit) {
  write_file(files / "bomb/zeros", "");
  fs::resize_file(files / "bomb/zeros", 32u << 20);
  server.put(tarball_of(files / "bomb", "zeros"), "artifacts", "bomb.tgz");
  auto settings = settings_for(server, config, "artifacts");
  settings.max_extract_bytes = 8u << 20;
  auto limited = make(settings);
  auto tmpl =
      with_inputs({{{"name", "bomb"}, {"path", "/in/bomb"}, {"s3", {{"key", "bomb.tgz"}}}}});
  auto staged = limited->stage_inputs(tmpl, sandbox.path(), kStep);
  ASSERT_FALSE(staged);
  EXPECT_EQ(staged.error().kind, ErrorKind::LimitExceeded);
  EXPECT_NE(staged.error().message.find(
                "input artifact bomb: archive expands to more than 8388608 bytes"),
            std::string::npos)
      << staged.error().message;
}

// ---- outputs ----

TEST_F(ServiceTest, OutputsAreArchivedLikeArgoexecAndReadableByAws) {
  write_file(sandbox / "tmp/out.txt", "result\n");
  write_file(sandbox / "tmp/report/summary.txt", "summary");
  write_file(sandbox / "tmp/report/parts/1.txt", "part 1");
  write_file(sandbox / "tmp/raw.bin", "raw output");
  write_file(sandbox / "tmp/tree/a", "a");
  write_file(sandbox / "tmp/tree/b/c", "c");
  auto tmpl = with_outputs({
      {{"name", "out"}, {"path", "/tmp/out.txt"}},
      {{"name", "report"},
       {"path", "/tmp/report"},
       {"archive", {{"tar", {{"compressionLevel", 9}}}}}},
      {{"name", "raw"}, {"path", "/tmp/raw.bin"}, {"archive", {{"none", Json::object()}}}},
      {{"name", "tree"}, {"path", "/tmp/tree"}, {"archive", {{"none", Json::object()}}}},
  });
  auto outputs = service->collect_outputs(tmpl, {}, sandbox.path(), kStep);
  ASSERT_TRUE(outputs) << outputs.error().message;
  ASSERT_EQ(outputs->size(), 4u);

  const std::string pod = "wf-1-produce-";  // + 8 hex digits of the step key's hash
  const auto& out = (*outputs)[0];
  ASSERT_TRUE(out.s3);
  EXPECT_TRUE(out.s3->key.starts_with("wf-1/" + pod)) << out.s3->key;
  EXPECT_TRUE(out.s3->key.ends_with("/out.tgz")) << out.s3->key;
  EXPECT_EQ(out.s3->bucket, "artifacts");
  EXPECT_EQ(out.s3->endpoint, server.endpoint());
  EXPECT_EQ(out.s3->insecure, std::optional<bool>(true));
  ASSERT_TRUE(out.s3->access_key_secret);
  EXPECT_EQ(out.s3->access_key_secret->name, "my-s3-credentials");
  Json json = model::to_json(out);
  EXPECT_EQ(json["s3"]["key"], out.s3->key);
  EXPECT_EQ(json["s3"]["accessKeySecret"]["key"], "accessKey");

  // What a container step's argoexec would do with them: download and untar.
  ASSERT_TRUE(server.get("artifacts", out.s3->key, files / "out.tgz"));
  fs::create_directory(files / "x");
  ASSERT_EQ(run("tar -xzf " + quote((files / "out.tgz").string()) + " -C " +
                quote((files / "x").string()))
                .exit_code,
            0);
  EXPECT_EQ(read_file(files / "x/out.txt"), "result\n");

  const auto& report = (*outputs)[1];
  EXPECT_TRUE(report.s3->key.ends_with("/report.tgz"));
  ASSERT_TRUE(server.get("artifacts", report.s3->key, files / "report.tgz"));
  ASSERT_EQ(run("tar -xzf " + quote((files / "report.tgz").string()) + " -C " +
                quote((files / "x").string()))
                .exit_code,
            0);
  EXPECT_EQ(read_file(files / "x/report/summary.txt"), "summary");
  EXPECT_EQ(read_file(files / "x/report/parts/1.txt"), "part 1");

  const auto& raw = (*outputs)[2];
  EXPECT_TRUE(raw.s3->key.ends_with("/raw.bin")) << raw.s3->key;
  ASSERT_TRUE(server.get("artifacts", raw.s3->key, files / "raw.bin"));
  EXPECT_EQ(read_file(files / "raw.bin"), "raw output");

  const auto& tree = (*outputs)[3];
  EXPECT_TRUE(tree.s3->key.ends_with("/tree"));
  ASSERT_TRUE(server.get("artifacts", tree.s3->key + "/b/c", files / "c"));
  EXPECT_EQ(read_file(files / "c"), "c");
}

TEST_F(ServiceTest, ReportedArtifactsFromTheEarlierAbi) {
  write_file(sandbox / "work/artifacts-out/result.txt", "reported");
  write_file(sandbox / "work/artifacts-out/declared-file",
             "declared by template, placed by module");
  auto tmpl = with_outputs({{{"name", "declared"}}});  // no path: the module says where
  std::vector<model::Artifact> reported = {
      artifact({{"name", "declared"}, {"path", "declared-file"}}),
      artifact({{"name", "extra"}, {"path", "result.txt"}}),
  };
  auto outputs = service->collect_outputs(tmpl, reported, sandbox.path(), kStep);
  ASSERT_TRUE(outputs) << outputs.error().message;
  ASSERT_EQ(outputs->size(), 2u);
  EXPECT_EQ((*outputs)[0].name, "declared");
  EXPECT_EQ((*outputs)[1].name, "extra");
  ASSERT_TRUE(server.get("artifacts", (*outputs)[1].s3->key, files / "extra.tgz"));
  fs::create_directory(files / "x");
  ASSERT_EQ(run("tar -xzf " + quote((files / "extra.tgz").string()) + " -C " +
                quote((files / "x").string()))
                .exit_code,
            0);
  EXPECT_EQ(read_file(files / "x/result.txt"), "reported");

  // A reported path is joined under /work/artifacts-out, as the earlier SDK does: nothing else of
  // the sandbox can be uploaded under a name the template never declared.
  write_file(sandbox / "etc/passwd", "not for upload");
  auto escape = service->collect_outputs(model::Template{},
                                         {artifact({{"name", "e"}, {"path", "/etc/passwd"}})},
                                         sandbox.path(), kStep);
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().message,
            "output artifact e not found at /work/artifacts-out/etc/passwd");
  auto dotdot = service->collect_outputs(
      model::Template{}, {artifact({{"name", "e"}, {"path", "../../x"}})}, sandbox.path(), kStep);
  ASSERT_FALSE(dotdot);
  EXPECT_NE(dotdot.error().message.find("'..'"), std::string::npos);
}

TEST_F(ServiceTest, OptionalAndMissingOutputs) {
  auto optional = with_outputs({{{"name", "maybe"}, {"path", "/tmp/maybe"}, {"optional", true}}});
  auto none = service->collect_outputs(optional, {}, sandbox.path(), kStep);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());

  auto required = with_outputs({{{"name", "needed"}, {"path", "/tmp/needed.txt"}}});
  auto missing = service->collect_outputs(required, {}, sandbox.path(), kStep);
  ASSERT_FALSE(missing);
  // Both places a module may have written it: the declared path and the earlier SDK's.
  EXPECT_EQ(missing.error().message,
            "output artifact needed not found at /tmp/needed.txt or "
            "/work/artifacts-out/tmp/needed.txt");
}

TEST_F(ServiceTest, OutputSymlinkOutOfTheSandboxIsRefused) {
  fs::create_directories(sandbox / "tmp");
  fs::create_symlink("/etc/passwd", sandbox / "tmp/leak");
  auto tmpl = with_outputs({{{"name", "leak"}, {"path", "/tmp/leak"}}});
  auto outputs = service->collect_outputs(tmpl, {}, sandbox.path(), kStep);
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().kind, ErrorKind::Failed);
  EXPECT_NE(
      outputs.error().message.find(
          "output artifact leak: symlink /tmp/leak -> /etc/passwd points outside the sandbox"),
      std::string::npos)
      << outputs.error().message;
  // Inside a directory artifact a symlink is stored as a link, never followed.
  write_file(sandbox / "tmp/dir/file", "f");
  fs::create_symlink("/etc/passwd", sandbox / "tmp/dir/leak");
  auto dir_outputs = service->collect_outputs(
      with_outputs({{{"name", "dir"}, {"path", "/tmp/dir"}}}), {}, sandbox.path(), kStep);
  ASSERT_TRUE(dir_outputs) << dir_outputs.error().message;
  ASSERT_TRUE(server.get("artifacts", (*dir_outputs)[0].s3->key, files / "dir.tgz"));
  auto listing = run("tar -tvzf " + quote((files / "dir.tgz").string()));
  EXPECT_NE(listing.output.find("dir/leak -> /etc/passwd"), std::string::npos) << listing.output;
}

TEST_F(ServiceTest, KeyFormatAndExplicitKeys) {
  auto settings = settings_for(server, config, "artifacts",
                               "custom/{{workflow.namespace}}/{{workflow.uid}}/{{pod.name}}");
  auto custom = make(settings);
  write_file(sandbox / "o.txt", "o");
  auto outputs = custom->collect_outputs(
      with_outputs({{{"name", "o"}, {"path", "/o.txt"}},
                    {{"name", "fixed"}, {"path", "/o.txt"}, {"s3", {{"key", "exact/place.tgz"}}}}}),
      {}, sandbox.path(), kStep);
  ASSERT_TRUE(outputs) << outputs.error().message;
  EXPECT_TRUE((*outputs)[0].s3->key.starts_with("custom/argo/uid-1/wf-1-produce-"))
      << (*outputs)[0].s3->key;
  EXPECT_EQ((*outputs)[1].s3->key, "exact/place.tgz");
  EXPECT_EQ(server.aws("s3api head-object --bucket artifacts --key exact/place.tgz").exit_code, 0);
}

TEST_F(ServiceTest, OutputOfOneStepIsTheInputOfTheNext) {
  write_file(sandbox / "out/data/x.txt", "passed along");
  auto outputs = service->collect_outputs(with_outputs({{{"name", "data"}, {"path", "/out/data"}}}),
                                          {}, sandbox.path(), kStep);
  ASSERT_TRUE(outputs) << outputs.error().message;
  // The controller hands the output (as JSON) to the consumer, under the consumer's own path.
  Json next = model::to_json((*outputs)[0]);
  next["path"] = "/in/data";
  ScratchDir consumer;
  auto staged = service->stage_inputs(with_inputs({next}), consumer.path(), kStep);
  ASSERT_TRUE(staged) << staged.error().message;
  EXPECT_EQ(read_file(consumer / "in/data/x.txt"), "passed along");
}

TEST_F(ServiceTest, RepositoryDownIsTransient) {
  write_file(sandbox / "o.txt", "o");
  server.stop();
  auto outputs = service->collect_outputs(with_outputs({{{"name", "o"}, {"path", "/o.txt"}}}), {},
                                          sandbox.path(), kStep);
  ASSERT_FALSE(outputs);
  EXPECT_EQ(outputs.error().kind, ErrorKind::Transient) << outputs.error().message;
  EXPECT_TRUE(outputs.error().message.starts_with("output artifact o: "))
      << outputs.error().message;
  auto inputs = service->stage_inputs(with_inputs({{{"name", "i"}, {"s3", {{"key", "k"}}}}}),
                                      sandbox.path(), kStep);
  ASSERT_FALSE(inputs);
  EXPECT_EQ(inputs.error().kind, ErrorKind::Transient) << inputs.error().message;
}

}  // namespace
}  // namespace wwp::artifacts::test
