// Modules by path: the kernel (openat2 RESOLVE_BENEATH) keeps every lookup inside --module-dir,
// symlinks and ".." included.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "modules/path_source.hpp"

using namespace wwp;
namespace fs = std::filesystem;

namespace {

class PathSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("wwp-path-source-test-" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_ / "modules" / "sub");
    std::ofstream(base_ / "modules" / "tool.wasm") << "module bytes";
    std::ofstream(base_ / "secret.wasm") << "outside";
    fs::create_symlink("../tool.wasm", base_ / "modules" / "sub" / "inside-link.wasm");
    fs::create_symlink(base_ / "secret.wasm", base_ / "modules" / "outside-link.wasm");
    fs::create_symlink("../../secret.wasm", base_ / "modules" / "sub" / "dotdot-link.wasm");
  }
  void TearDown() override { fs::remove_all(base_); }

  fs::path base_;
};

TEST_F(PathSourceTest, FilesAndSymlinksInsideResolve) {
  modules::PathSource source(base_ / "modules");
  auto direct = source.fetch(std::string("tool.wasm"));
  ASSERT_TRUE(direct.ok()) << direct.error().message;
  auto linked = source.fetch(std::string("sub/inside-link.wasm"));
  ASSERT_TRUE(linked.ok()) << linked.error().message;
  EXPECT_EQ(linked->digest.hex, direct->digest.hex);
  auto dotted = source.fetch(std::string("sub/../tool.wasm"));
  ASSERT_TRUE(dotted.ok()) << dotted.error().message;
  EXPECT_EQ(dotted->digest.hex, direct->digest.hex);
}

TEST_F(PathSourceTest, NothingOutsideTheModuleDirectoryIsReached) {
  modules::PathSource source(base_ / "modules");
  for (const std::string path : {"../secret.wasm", "outside-link.wasm", "sub/dotdot-link.wasm",
                                 "/etc/passwd", "sub/../../secret.wasm"}) {
    auto fetched = source.fetch(path);
    ASSERT_FALSE(fetched.ok()) << path;
    EXPECT_EQ(fetched.error().kind, ErrorKind::InvalidRequest) << path;
    EXPECT_NE(fetched.error().message.find("outside the module directory"), std::string::npos)
        << fetched.error().message;
  }
  auto missing = source.fetch(std::string("nope.wasm"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
  auto directory = source.fetch(std::string("sub"));
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("is not a file"), std::string::npos);
}

}  // namespace
