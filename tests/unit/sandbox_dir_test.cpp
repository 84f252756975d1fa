// Step directories: a finished step's directory is emptied back to the layout and given to the
// next step, unless the module left it in a shape the layout does not allow.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "executor/sandbox_dir.hpp"

using namespace wwp::executor;
namespace fs = std::filesystem;

namespace {

class SandboxDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    parent_path_ = fs::temp_directory_path() /
                   ("wwp-sandbox-dir-test-" + std::to_string(::getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(parent_path_);
    auto opened = SandboxParent::open(parent_path_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    parent_ = std::move(*opened);
  }
  void TearDown() override {
    parent_.reset();
    fs::remove_all(parent_path_);
  }

  // The step directories under the parent (not the owner lock).
  std::vector<fs::path> step_dirs() const {
    std::vector<fs::path> dirs;
    for (const auto& entry : fs::directory_iterator(parent_path_))
      if (entry.path().filename().string().starts_with("step-")) dirs.push_back(entry.path());
    return dirs;
  }

  static void expect_fresh_layout(const fs::path& root) {
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(root))
      found.push_back(fs::relative(entry.path(), root).string());
    std::sort(found.begin(), found.end());
    EXPECT_EQ(found,
              (std::vector<std::string>{"tmp", "work", "work/artifacts-in", "work/artifacts-out"}));
  }

  fs::path parent_path_;
  std::unique_ptr<SandboxParent> parent_;
};

void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_F(SandboxDirTest, AFinishedStepsDirectoryIsEmptiedAndReused) {
  fs::path first;
  {
    auto dir = parent_->create_step();
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    first = dir->root();
    expect_fresh_layout(first);
    // What a step of the earlier ABI leaves, and more: nested trees, links, an outside target.
    write(first / "work/input.json", "{}");
    write(first / "work/result.json", "{}");
    fs::create_directories(first / "work/artifacts-out/a/b/c");
    write(first / "work/artifacts-out/a/b/c/file", "x");
    write(first / "work/artifacts-in/in.txt", "y");
    write(first / "tmp/scratch", "z");
    fs::create_directory(first / "extra");
    fs::create_symlink(parent_path_, first / "tmp/escape");
    write(first / "top-level-file", "t");
  }
  EXPECT_EQ(step_dirs().size(), 1u);  // kept, not removed
  auto again = parent_->create_step();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->root(), first);
  expect_fresh_layout(first);
  EXPECT_TRUE(fs::exists(parent_path_)) << "the symlink's target must survive";
  // Two steps at once get two directories.
  auto other = parent_->create_step();
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->root(), first);
}

TEST_F(SandboxDirTest, ALayoutTheModuleChangedIsRemovedNotReused) {
  fs::path first;
  {
    auto dir = parent_->create_step();
    ASSERT_TRUE(dir.ok());
    first = dir->root();
    // /tmp replaced by a symlink to a directory outside: emptying it would empty the target.
    fs::remove(first / "tmp");
    fs::create_directory(parent_path_ / "outside");
    write(parent_path_ / "outside/keep", "k");
    fs::create_directory_symlink(parent_path_ / "outside", first / "tmp");
  }
  EXPECT_FALSE(fs::exists(first));
  EXPECT_TRUE(fs::exists(parent_path_ / "outside/keep"));
  {
    auto dir = parent_->create_step();
    ASSERT_TRUE(dir.ok());
    first = dir->root();
    fs::remove_all(first / "work/artifacts-in");  // a layout directory missing
  }
  EXPECT_FALSE(fs::exists(first));
  auto fresh = parent_->create_step();
  ASSERT_TRUE(fresh.ok());
  expect_fresh_layout(fresh->root());
}

TEST_F(SandboxDirTest, ADirectoryThatGrewIsNotReused) {
  fs::path first;
  off_t grown = 0;
  {
    auto dir = parent_->create_step();
    ASSERT_TRUE(dir.ok());
    first = dir->root();
    // Enough names to need more than one block; on ext4 the emptied directory keeps its size.
    for (int i = 0; i < 400; ++i)
      write(first / "tmp" / ("a-rather-long-file-name-to-fill-blocks-" + std::to_string(i)), "");
    struct stat st {};
    ASSERT_EQ(::stat((first / "tmp").c_str(), &st), 0);
    grown = st.st_size;
  }
  if (grown > 4096) {
    EXPECT_FALSE(fs::exists(first)) << "a directory of " << grown << " bytes was kept";
  } else {
    expect_fresh_layout(first);  // a filesystem that reports small sizes (tmpfs): kept, clean
  }
}

TEST_F(SandboxDirTest, StoppingRemovesTheKeptDirectories) {
  { ASSERT_TRUE(parent_->create_step().ok()); }
  EXPECT_EQ(step_dirs().size(), 1u);
  parent_.reset();
  EXPECT_TRUE(step_dirs().empty());
}
