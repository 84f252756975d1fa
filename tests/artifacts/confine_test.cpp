#include "artifacts/confine.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace wwp::artifacts::test {
namespace {

TEST(SandboxPath, MapsModulePathsUnderTheRoot) {
  const fs::path root = "/sandbox";
  EXPECT_EQ(*sandbox_path(root, "/tmp/in.txt"), fs::path("/sandbox/tmp/in.txt"));
  EXPECT_EQ(*sandbox_path(root, "tmp//./in.txt"), fs::path("/sandbox/tmp/in.txt"));
  EXPECT_EQ(*sandbox_path(root, "/"), root);
  EXPECT_EQ(*sandbox_path(root, "/work/artifacts-in/a"), fs::path("/sandbox/work/artifacts-in/a"));
}

TEST(SandboxPath, RefusesTraversalAndOddPaths) {
  const fs::path root = "/sandbox";
  for (const char* path : {"../etc/passwd", "/tmp/../../etc/passwd", "/a/..", "..", "/a/../b"}) {
    auto result = sandbox_path(root, path);
    ASSERT_FALSE(result) << path;
    EXPECT_NE(result.error().message.find("'..'"), std::string::npos) << result.error().message;
  }
  EXPECT_FALSE(sandbox_path(root, ""));
  EXPECT_FALSE(sandbox_path(root, std::string("a\0b", 3)));
}

TEST(CheckInside, FollowsSymlinksThatStayInside) {
  ScratchDir dir;
  fs::create_directories(dir / "data/real");
  fs::create_directory_symlink("real", dir / "data/alias");
  fs::create_directory_symlink("../..", dir / "data/real/top");  // back to the root: inside
  EXPECT_TRUE(confine(dir.path(), "/data/alias/file"));
  EXPECT_TRUE(confine(dir.path(), "/data/real/top/data/real/file"));
  EXPECT_TRUE(confine(dir.path(), "/not/yet/there"));
}

TEST(CheckInside, RefusesSymlinksPointingOut) {
  ScratchDir dir;
  ScratchDir outside;
  fs::create_directories(dir / "tmp");
  fs::create_directory_symlink(outside.path(), dir / "tmp/escape");      // absolute
  fs::create_directory_symlink("../../..", dir / "tmp/up");              // relative
  fs::create_symlink("/etc/passwd", dir / "tmp/passwd");                 // to a file
  fs::create_symlink(outside / "does-not-exist", dir / "tmp/dangling");  // dangling
  for (const char* path : {"/tmp/escape/x", "/tmp/up/etc", "/tmp/passwd", "/tmp/dangling"}) {
    auto result = confine(dir.path(), path);
    ASSERT_FALSE(result) << path;
    EXPECT_NE(result.error().message.find("points outside the sandbox"), std::string::npos)
        << result.error().message;
  }
}

TEST(IsWithin, ComparesWholeComponents) {
  EXPECT_TRUE(is_within("/a/b", "/a/b"));
  EXPECT_TRUE(is_within("/a/b", "/a/b/c"));
  EXPECT_FALSE(is_within("/a/b", "/a/bc"));
  EXPECT_FALSE(is_within("/a/b", "/a"));
}

}  // namespace
}  // namespace wwp::artifacts::test
