// A 1 GiB artifact goes up (multipart) and comes back down, raw and as a tarball, while this
// process's peak RSS stays far below the size of one upload part. Its own executable, so VmHWM
// measures this test alone.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "artifacts/factory.hpp"
#include "test_support.hpp"

namespace wwp::artifacts::test {
namespace {

constexpr std::uint64_t kSize = 1ULL << 30;
constexpr std::uint64_t kAllowedGrowth = 32ULL << 20;  // half a part; a buffered part would show
const std::vector<std::pair<std::uint64_t, std::string>> kMarkers = {
    {0, "start"}, {kSize / 2 + 12345, "middle"}, {kSize - 3, "end"}};

void write_at(const fs::path& file, std::uint64_t offset, const std::string& text) {
  int fd = ::open(file.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, text.data(), text.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(text.size()));
  ::close(fd);
}

std::string read_at(const fs::path& file, std::uint64_t offset, std::size_t length) {
  std::string text(length, '\0');
  int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) return "<cannot open>";
  ssize_t n = ::pread(fd, text.data(), length, static_cast<off_t>(offset));
  ::close(fd);
  text.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  return text;
}

model::Artifact parse(const model::Json& json) { return *model::parse_artifact(json, "artifact"); }

TEST(LargeArtifact, OneGibibyteStreamsBothWaysInBoundedMemory) {
  S3Server server;
  server.make_bucket("artifacts");
  ScratchDir config{"wwp-config-"};
  ScratchDir producer{"wwp-sandbox-"};
  ScratchDir consumer{"wwp-sandbox-"};
  auto made = make_artifact_service(settings_for(server, config, "artifacts"));
  ASSERT_TRUE(made) << made.error().message;
  auto& service = **made;
  const StepContext step{{"wf-big", "argo", "uid"}, "big", "uid/sha256:big"};

  // Sparse on disk, so the test costs no time writing it.
  const fs::path big = producer / "tmp/big.bin";
  write_file(big, "");
  fs::resize_file(big, kSize);
  for (const auto& [offset, text] : kMarkers) write_at(big, offset, text);

  model::Template produce;
  produce.name = "big";
  produce.output_artifacts = {parse({{"name", "raw"},
                                     {"path", "/tmp/big.bin"},
                                     {"archive", {{"none", model::Json::object()}}}}),
                              parse({{"name", "packed"}, {"path", "/tmp/big.bin"}})};

  const std::uint64_t before = peak_rss_bytes();
  const auto started = std::chrono::steady_clock::now();
  auto outputs = service.collect_outputs(produce, {}, producer.path(), step);
  ASSERT_TRUE(outputs) << outputs.error().message;
  ASSERT_EQ(outputs->size(), 2u);

  // awscli sees the whole object, uploaded in 16 parts of 64 MiB.
  auto head =
      server.aws("s3api head-object --bucket artifacts --key " + quote((*outputs)[0].s3->key));
  ASSERT_EQ(head.exit_code, 0) << head.output;
  EXPECT_NE(head.output.find("\"ContentLength\": 1073741824"), std::string::npos) << head.output;
  EXPECT_NE(head.output.find("-16\\\""), std::string::npos) << head.output;

  model::Template consume;
  consume.name = "consume";
  model::Json raw_in = model::to_json((*outputs)[0]);
  raw_in["path"] = "/in/raw.bin";
  model::Json packed_in = model::to_json((*outputs)[1]);
  packed_in["path"] = "/in/unpacked.bin";
  consume.input_artifacts = {parse(raw_in), parse(packed_in)};
  auto staged = service.stage_inputs(consume, consumer.path(), step);
  ASSERT_TRUE(staged) << staged.error().message;
  const std::uint64_t after = peak_rss_bytes();
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
          .count();

  for (const char* name : {"in/raw.bin", "in/unpacked.bin"}) {
    const fs::path file = consumer / name;
    ASSERT_EQ(fs::file_size(file), kSize) << name;
    for (const auto& [offset, text] : kMarkers)
      EXPECT_EQ(read_at(file, offset, text.size()), text) << name;
  }
  EXPECT_LT(after - before, kAllowedGrowth)
      << "peak RSS grew from " << before / 1024 << " KiB to " << after / 1024 << " KiB";
  std::cout << "[ info ] 1 GiB up (raw + tgz) and down in " << seconds << " s; peak RSS "
            << before / 1024 << " KiB -> " << after / 1024 << " KiB\n";
}

}  // namespace
}  // namespace wwp::artifacts::test
