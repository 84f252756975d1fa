// The small shared helpers of src/common.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/atomic_file.hpp"
#include "common/base64.hpp"
#include "common/digest.hpp"
#include "common/result.hpp"
#include "common/single_flight.hpp"
#include "common/text.hpp"

namespace wwp {
namespace {

Result<int> parse_positive(int value) {
  if (value <= 0) return invalid("not positive");
  return value;
}

Result<int> doubled(int value) {
  WWP_TRY_ASSIGN(const int checked, parse_positive(value));
  return checked * 2;
}

TEST(Result, TryAssignPropagatesOrAssigns) {
  EXPECT_EQ(*doubled(21), 42);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidRequest);
  EXPECT_EQ(bad.error().message, "not positive");
}

TEST(Digest, Sha256AndParsing) {
  EXPECT_EQ(sha256_of("").hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 hash;
  hash.update("hel");
  hash.update("lo");
  EXPECT_EQ(hash.finish(), sha256_of("hello"));
  EXPECT_EQ(parse_digest("sha256:" + sha256_of("x").hex), sha256_of("x"));
  EXPECT_FALSE(parse_digest("sha256:ABC"));
  EXPECT_FALSE(parse_digest(std::string(64, 'g')));
}

TEST(Base64, RoundTripAndMalformed) {
  for (const std::string text : {"", "a", "ab", "abc", "alice:secret", "\xff\x00\x10"}) {
    EXPECT_EQ(base64_decode(base64_encode(text)), text);
  }
  EXPECT_EQ(base64_decode("aGVs\nbG8="), "hello");  // wrapped lines are fine
  EXPECT_FALSE(base64_decode("abc"));               // not whole groups
  EXPECT_FALSE(base64_decode("not base64!"));
  EXPECT_FALSE(base64_decode("a==="));
}

TEST(Text, TrimAndLower) {
  EXPECT_EQ(trim(" \tx y\r\n"), "x y");
  EXPECT_EQ(trim_end(" x \n"), " x");
  EXPECT_EQ(to_lower("Content-TYPE"), "content-type");
}

TEST(AtomicFile, WritesReplaceWholeAndLeaveNoTemporaries) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("wwp-atomic-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto file = dir / "sub" / "value";
  ASSERT_TRUE(write_file_atomically(file, "first"));
  ASSERT_TRUE(write_file_atomically(file, "second"));
  std::ifstream in(file);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "second");
  ASSERT_TRUE(copy_file_atomically(file, dir / "copy"));
  EXPECT_EQ(std::filesystem::file_size(dir / "copy"), 6u);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
    EXPECT_FALSE(entry.path().filename().string().starts_with(".tmp-")) << entry.path();
  EXPECT_FALSE(copy_file_atomically(dir / "missing", dir / "copy2"));
  EXPECT_FALSE(std::filesystem::exists(dir / "copy2"));
  std::filesystem::remove_all(dir);
}

TEST(SingleFlight, ConcurrentCallersShareOneRun) {
  SingleFlight<std::string, int> flight;
  std::atomic<int> runs{0};
  std::atomic<bool> release{false};
  std::vector<std::thread> threads;
  std::vector<int> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      results[i] = flight.run("key", [&] {
        ++runs;
        while (!release) std::this_thread::yield();
        return 7;
      });
    });
  }
  // Let every thread reach run() before the work finishes; the work waits for `release`.
  while (runs == 0) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  release = true;
  for (auto& thread : threads) thread.join();
  for (int value : results) EXPECT_EQ(value, 7);
  EXPECT_GE(runs.load(), 1);
  EXPECT_EQ(flight.running(), 0u);
}

TEST(SingleFlight, AThrowReachesEveryWaiterAndFreesTheKey) {
  SingleFlight<int, int> flight;
  std::atomic<bool> started{false};
  std::atomic<bool> release{false};
  std::thread leader([&] {
    EXPECT_THROW(flight.run(1,
                            [&]() -> int {
                              started = true;
                              while (!release) std::this_thread::yield();
                              throw std::runtime_error("compiler crashed");
                            }),
                 std::runtime_error);
  });
  while (!started) std::this_thread::yield();
  std::thread waiter([&] {
    // Either joins the failing run (and sees its exception, not a broken promise) or runs after
    // it on a free key.
    try {
      EXPECT_EQ(flight.run(1, [] { return 5; }), 5);
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "compiler crashed");
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  release = true;
  leader.join();
  waiter.join();
  EXPECT_EQ(flight.running(), 0u);
  EXPECT_EQ(flight.run(1, [] { return 9; }), 9);  // the key is free again
}

}  // namespace
}  // namespace wwp
