#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "store/blob_store.hpp"
#include "support.hpp"

namespace wwp::store {
namespace {

using oci::test::stored_blobs;
using oci::test::temp_files;
using oci::test::TempDir;

void set_mtime(const std::filesystem::path& path, int seconds_ago) {
  struct timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= seconds_ago;
  times[1] = times[0];
  ::utimensat(AT_FDCWD, path.c_str(), times, 0);
}

TEST(BlobStoreTest, PutAndReadStillWork) {
  TempDir dir;
  BlobStore store(dir.path());
  auto digest = store.put("hello");
  ASSERT_TRUE(digest);
  EXPECT_EQ(*digest, sha256_of("hello"));
  EXPECT_TRUE(store.contains(*digest));
  EXPECT_EQ(*store.read(*digest), "hello");
  auto mismatch = store.put("other", sha256_of("hello"));
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("digest mismatch"), std::string::npos);
}

TEST(BlobStoreTest, StreamingWriterVerifiesDigest) {
  TempDir dir;
  BlobStore store(dir.path());
  {
    auto writer = store.writer();
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write("hel"));
    ASSERT_TRUE(writer->write("lo"));
    EXPECT_EQ(writer->size(), 5u);
    auto committed = writer->commit(sha256_of("hello"));
    ASSERT_TRUE(committed) << committed.error().message;
  }
  EXPECT_TRUE(store.contains(sha256_of("hello")));
  {
    auto writer = store.writer();
    ASSERT_TRUE(writer->write("tampered"));
    auto committed = writer->commit(sha256_of("original"));
    ASSERT_FALSE(committed);
    EXPECT_NE(committed.error().message.find("digest mismatch"), std::string::npos);
  }
  {
    auto writer = store.writer();
    ASSERT_TRUE(writer->write("abandoned"));
  }  // destroyed without commit
  EXPECT_FALSE(store.contains(sha256_of("tampered")));
  EXPECT_FALSE(store.contains(sha256_of("abandoned")));
  EXPECT_TRUE(temp_files(dir.path()).empty());
  EXPECT_EQ(stored_blobs(dir.path()).size(), 1u);
}

TEST(BlobStoreTest, Sha256Incremental) {
  Sha256 hash;
  hash.update("hel");
  hash.update("");
  hash.update("lo");
  EXPECT_EQ(hash.finish(), sha256_of("hello"));
}

TEST(BlobStoreTest, EvictsLeastRecentlyUsedFirst) {
  TempDir dir;
  BlobStore store(dir.path());
  std::vector<Digest> digests;
  for (int i = 0; i < 4; ++i) {
    digests.push_back(*store.put(std::string(1000, static_cast<char>('a' + i))));
    set_mtime(store.path_of(digests.back()), 400 - i * 100);  // a oldest, d newest
  }
  store.touch(digests[0]);  // a becomes the most recently used
  const auto report = store.evict(2500);
  EXPECT_EQ(report.removed, 2u);
  EXPECT_EQ(report.remaining_bytes, 2000u);
  EXPECT_TRUE(store.contains(digests[0]));
  EXPECT_FALSE(store.contains(digests[1]));
  EXPECT_FALSE(store.contains(digests[2]));
  EXPECT_TRUE(store.contains(digests[3]));
}

TEST(BlobStoreTest, EvictionSkipsLeasedBlobs) {
  TempDir dir;
  BlobStore store(dir.path());
  const Digest old_one = *store.put(std::string(1000, 'o'));
  const Digest new_one = *store.put(std::string(1000, 'n'));
  set_mtime(store.path_of(old_one), 1000);
  auto lease = store.lease(old_one);
  ASSERT_TRUE(lease);
  BlobStore other_process_view(dir.path());
  auto report = other_process_view.evict(1000);
  EXPECT_EQ(report.skipped_in_use, 1u);
  EXPECT_TRUE(store.contains(old_one));
  EXPECT_FALSE(store.contains(new_one));
  lease->reset();
  report = other_process_view.evict(0);
  EXPECT_FALSE(store.contains(old_one));
}

TEST(BlobStoreTest, LeaseWaitsForEvictionAndSeesTheResult) {
  TempDir dir;
  BlobStore store(dir.path());
  const Digest digest = *store.put("x");
  // An evictor holding the lease lock exclusively; a lease request blocks until it is done and
  // then must see that the blob is gone (no stale "present" answer).
  auto evicting =
      FileLock::acquire(dir.path() / "locks" / (digest.hex + ".lease"), FileLock::Mode::Exclusive);
  ASSERT_TRUE(evicting && evicting->held());
  std::thread evictor([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::filesystem::remove(store.path_of(digest));
    std::filesystem::remove(dir.path() / "locks" / (digest.hex + ".lease"));
    *evicting = FileLock{};
  });
  auto lease = store.lease(digest);
  ASSERT_TRUE(lease);
  EXPECT_FALSE(store.contains(digest));
  evictor.join();
  // And the new lease really protects: an exclusive attempt on the current lock file fails.
  auto probe = FileLock::try_acquire(dir.path() / "locks" / (digest.hex + ".lease"),
                                     FileLock::Mode::Exclusive);
  ASSERT_TRUE(probe);
  EXPECT_FALSE(probe->held());
}

TEST(BlobStoreTest, FetchLockSerialises) {
  TempDir dir;
  BlobStore store(dir.path());
  const Digest digest = sha256_of("y");
  auto first = store.lock_for_fetch(digest, std::chrono::milliseconds(0));
  ASSERT_TRUE(first && first->held());
  auto second = store.lock_for_fetch(digest, std::chrono::milliseconds(50));
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->held());  // gave up after the wait
  *first = FileLock{};
  auto third = store.lock_for_fetch(digest, std::chrono::milliseconds(50));
  EXPECT_TRUE(third && third->held());
}

TEST(BlobStoreTest, StaleTempsOfDeadWritersAreRemovedLiveOnesKept) {
  TempDir dir;
  BlobStore store(dir.path());
  auto live = store.writer();
  ASSERT_TRUE(live);
  ASSERT_TRUE(live->write("in progress"));
  const auto dead = dir.path() / "sha256" / ".tmp-99999-0-dead";
  oci::test::write_file(dead, "left by a crash");
  for (const auto& temp : temp_files(dir.path())) set_mtime(temp, 3600);
  EXPECT_EQ(store.remove_stale_temps(std::chrono::seconds(600)), 1u);
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_EQ(temp_files(dir.path()).size(), 1u);  // the live writer's file
  ASSERT_TRUE(live->commit());
  EXPECT_TRUE(store.contains(sha256_of("in progress")));
}

}  // namespace
}  // namespace wwp::store
