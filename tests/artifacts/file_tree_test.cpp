// Trees of any shape are measured and removed with one directory open at a time.
#include "artifacts/file_tree.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.hpp"

namespace wwp::artifacts {
namespace {

namespace fs = std::filesystem;
using test::ScratchDir;
using test::write_file;

void make_deep_tree(const fs::path& top, int depth) {
  fs::create_directories(top);
  int dir = ::open(top.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(dir, 0);
  for (int i = 0; i < depth; ++i) {
    ASSERT_EQ(::mkdirat(dir, "d", 0755), 0);
    int child = ::openat(dir, "d", O_RDONLY | O_DIRECTORY);
    ASSERT_GE(child, 0);
    ::close(dir);
    dir = child;
  }
  int file = ::openat(dir, "buried", O_WRONLY | O_CREAT, 0644);
  ASSERT_EQ(::write(file, "abc", 3), 3);
  ::close(file);
  ::close(dir);
}

TEST(FileTree, RemovesATreeTwentyThousandDirectoriesDeepWithFewDescriptors) {
  ScratchDir scratch;
  make_deep_tree(scratch / "deep", 20000);
  // Far fewer descriptors than levels: a walk holding one per level cannot finish.
  rlimit saved{};
  ::getrlimit(RLIMIT_NOFILE, &saved);
  rlimit low = saved;
  low.rlim_cur = 64;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  auto usage = measure_tree(scratch / "deep", {});
  auto removed = remove_tree(scratch / "deep");
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(usage) << usage.error().message;
  EXPECT_EQ(usage->entries, 20001u);
  EXPECT_EQ(usage->depth, 20000u);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(fs::exists(scratch / "deep"));
}

TEST(FileTree, MeasureStopsAtTheFirstLimit) {
  ScratchDir scratch;
  const fs::path root = scratch / "root";
  write_file(root / "a" / "one", std::string(1000, 'x'));
  write_file(root / "a" / "b" / "two", std::string(2000, 'y'));
  ASSERT_EQ(::link((root / "a" / "one").c_str(), (root / "one-again").c_str()), 0);
  auto all = measure_tree(root, {});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->entries, 5u);   // a, a/one, a/b, a/b/two, one-again
  EXPECT_GE(all->bytes, 3000u);  // the hard link counts once; directories add their blocks
  EXPECT_LT(all->bytes, 4000u + 3 * 65536u);
  EXPECT_EQ(all->exceeded, TreeUsage::Exceeded::None);

  TreeLimits depth;
  depth.max_depth = 1;
  EXPECT_EQ(measure_tree(root, depth)->exceeded, TreeUsage::Exceeded::Depth);
  TreeLimits entries;
  entries.max_entries = 2;
  EXPECT_EQ(measure_tree(root, entries)->exceeded, TreeUsage::Exceeded::Entries);
  TreeLimits bytes;
  bytes.max_bytes = 1500;
  EXPECT_EQ(measure_tree(root, bytes)->exceeded, TreeUsage::Exceeded::Bytes);
  TreeLimits path;
  path.max_path_bytes = 5;  // "a/b/two" is 7
  EXPECT_EQ(measure_tree(root, path)->exceeded, TreeUsage::Exceeded::PathLength);
}

TEST(FileTree, RemovalNeverFollowsSymlinksAndFixesPermissions) {
  ScratchDir scratch;
  write_file(scratch / "outside" / "keep", "keep");
  const fs::path root = scratch / "root";
  write_file(root / "locked" / "inner" / "f", "f");
  fs::create_directory_symlink(scratch / "outside", root / "link");
  ASSERT_EQ(::chmod((root / "locked" / "inner").c_str(), 0), 0);
  ASSERT_EQ(::chmod((root / "locked").c_str(), 0500), 0);
  auto removed = remove_tree(root);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_FALSE(fs::exists(root));
  EXPECT_EQ(test::read_file(scratch / "outside" / "keep"), "keep");
  EXPECT_TRUE(remove_tree(scratch / "missing"));
}

}  // namespace
}  // namespace wwp::artifacts
