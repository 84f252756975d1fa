#include <gtest/gtest.h>

#include "oci/layer_extract.hpp"
#include "support.hpp"

namespace wwp::oci {
namespace {

using test::fake_wasm;
using test::make_tar;
using test::TempDir;

class LayerExtractTest : public ::testing::Test {
 protected:
  std::filesystem::path layer(const std::string& bytes) {
    const auto path = dir_ / ("layer-" + std::to_string(++count_));
    test::write_file(path, bytes);
    return path;
  }
  TempDir dir_;
  store::BlobStore store_{dir_ / "blobs"};
  int count_ = 0;
};

TEST_F(LayerExtractTest, SingleWasmInGzipLayer) {
  const std::string wasm = fake_wasm(5000);
  const auto file =
      layer(make_tar({{"app/", ""}, {"app/module.wasm", wasm}, {"app/README", "hi"}}, true));
  auto extracted = extract_wasm(file, LayerFormat::TarGzip, store_, 1 << 20);
  ASSERT_TRUE(extracted) << extracted.error().message;
  ASSERT_TRUE(*extracted);
  EXPECT_EQ((*extracted)->path_in_layer, "app/module.wasm");
  EXPECT_EQ((*extracted)->digest, sha256_of(wasm));
  EXPECT_EQ((*extracted)->size, wasm.size());
  EXPECT_EQ(*store_.read((*extracted)->digest), wasm);
}

TEST_F(LayerExtractTest, PlainTarAndMislabelledCompression) {
  const std::string wasm = fake_wasm(300);
  auto extracted =
      extract_wasm(layer(make_tar({{"m.wasm", wasm}}, false)), LayerFormat::Tar, store_, 1 << 20);
  ASSERT_TRUE(extracted && *extracted);
  // Labelled tar but gzip inside: sniffed.
  extracted =
      extract_wasm(layer(make_tar({{"m.wasm", wasm}}, true)), LayerFormat::Tar, store_, 1 << 20);
  ASSERT_TRUE(extracted && *extracted) << (extracted ? "" : extracted.error().message);
}

TEST_F(LayerExtractTest, NoWasmFile) {
  auto extracted =
      extract_wasm(layer(make_tar({{"etc/passwd", "root"}, {".wh.gone.wasm", ""}}, true)),
                   LayerFormat::TarGzip, store_, 1 << 20);
  ASSERT_TRUE(extracted);
  EXPECT_FALSE(*extracted);
}

TEST_F(LayerExtractTest, SeveralWasmFilesAreNamed) {
  auto extracted =
      extract_wasm(layer(make_tar({{"a.wasm", fake_wasm(10)}, {"b/c.wasm", fake_wasm(20)}}, true)),
                   LayerFormat::TarGzip, store_, 1 << 20);
  ASSERT_FALSE(extracted);
  EXPECT_NE(extracted.error().message.find("a.wasm, b/c.wasm"), std::string::npos)
      << extracted.error().message;
  EXPECT_TRUE(test::stored_blobs(dir_ / "blobs").empty());
  EXPECT_TRUE(test::temp_files(dir_ / "blobs").empty());
}

TEST_F(LayerExtractTest, SizeLimitAndCorruption) {
  auto extracted = extract_wasm(layer(make_tar({{"big.wasm", fake_wasm(100000)}}, true)),
                                LayerFormat::TarGzip, store_, 50000);
  ASSERT_FALSE(extracted);
  EXPECT_NE(extracted.error().message.find("larger than the limit"), std::string::npos);
  std::string tgz = make_tar({{"m.wasm", fake_wasm(100000, 7)}}, true);
  tgz.resize(tgz.size() / 2);
  extracted = extract_wasm(layer(tgz), LayerFormat::TarGzip, store_, 1 << 20);
  ASSERT_FALSE(extracted);
  EXPECT_TRUE(test::stored_blobs(dir_ / "blobs").empty());
  EXPECT_TRUE(test::temp_files(dir_ / "blobs").empty());
}

}  // namespace
}  // namespace wwp::oci
