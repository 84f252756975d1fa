// Packing and unpacking: argoexec's layout (checked with GNU tar as the independent tool), and
// archives crafted to escape the destination or to expand without bound.
#include "artifacts/archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "test_support.hpp"

namespace wwp::artifacts::test {
namespace {

struct TarEntry {
  enum class Type { File, Dir, Symlink, Hardlink };
  Type type = Type::File;
  std::string name;
  std::string content;              // file data, or the link target
  std::int64_t declared_size = -1;  // for files: header size if different from content
};

// Writes a tar.gz with exactly these entries; libarchive lets us write names tar would refuse.
void write_tar(const fs::path& file, const std::vector<TarEntry>& entries) {
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_perm(entry, 0644);
    switch (e.type) {
      case TarEntry::Type::File:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(entry, e.declared_size >= 0
                                          ? e.declared_size
                                          : static_cast<std::int64_t>(e.content.size()));
        break;
      case TarEntry::Type::Dir:
        archive_entry_set_filetype(entry, AE_IFDIR);
        archive_entry_set_perm(entry, 0755);
        break;
      case TarEntry::Type::Symlink:
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, e.content.c_str());
        break;
      case TarEntry::Type::Hardlink:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, e.content.c_str());
        break;
    }
    ASSERT_EQ(archive_write_header(a, entry), ARCHIVE_OK) << archive_error_string(a);
    if (e.type == TarEntry::Type::File && !e.content.empty()) {
      archive_write_data(a, e.content.data(), e.content.size());
    }
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
}

Result<Ok> unpack(const fs::path& tarball, const fs::path& destination, ExtractLimits limits = {}) {
  fs::create_directories(destination);
  return extract(tarball, destination, ArchiveFormat::TarGz, limits);
}

TEST(Pack, FileBecomesOneEntryNamedAfterIt) {
  ScratchDir dir;
  write_file(dir / "src/hello.txt", "hi\n");
  ASSERT_TRUE(pack(dir / "src/hello.txt", dir / "out.tgz", ArchiveFormat::TarGz));
  auto listing = run("tar -tzf " + quote((dir / "out.tgz").string()));
  EXPECT_EQ(listing.output, "hello.txt\n");
  fs::create_directory(dir / "x");
  ASSERT_EQ(
      run("tar -xzf " + quote((dir / "out.tgz").string()) + " -C " + quote((dir / "x").string()))
          .exit_code,
      0);
  EXPECT_EQ(read_file(dir / "x/hello.txt"), "hi\n");
}

TEST(Pack, DirectoryEntriesSitUnderItsNameWithSymlinksKept) {
  ScratchDir dir;
  write_file(dir / "src/data/b.txt", "b");
  write_file(dir / "src/data/a/deep.txt", "deep");
  fs::create_symlink("b.txt", dir / "src/data/link");
  ASSERT_TRUE(pack(dir / "src/data", dir / "out.tgz", ArchiveFormat::TarGz, 9));
  auto listing = run("tar -tzf " + quote((dir / "out.tgz").string()));
  EXPECT_EQ(listing.output, "data/\ndata/a/\ndata/a/deep.txt\ndata/b.txt\ndata/link\n");
  fs::create_directory(dir / "x");
  ASSERT_EQ(
      run("tar -xzf " + quote((dir / "out.tgz").string()) + " -C " + quote((dir / "x").string()))
          .exit_code,
      0);
  EXPECT_EQ(read_file(dir / "x/data/a/deep.txt"), "deep");
  EXPECT_EQ(fs::read_symlink(dir / "x/data/link"), fs::path("b.txt"));
}

TEST(Pack, NoCompressionLevelStillGzip) {
  ScratchDir dir;
  write_file(dir / "f", std::string(100000, 'a'));
  ASSERT_TRUE(pack(dir / "f", dir / "stored.tgz", ArchiveFormat::TarGz, 0));
  ASSERT_TRUE(pack(dir / "f", dir / "best.tgz", ArchiveFormat::TarGz, 9));
  EXPECT_GT(fs::file_size(dir / "stored.tgz"), 100000u);
  EXPECT_LT(fs::file_size(dir / "best.tgz"), 2000u);
  EXPECT_TRUE(*is_tarball(dir / "stored.tgz"));
}

TEST(Pack, ZipRoundTrip) {
  ScratchDir dir;
  write_file(dir / "src/d/f.txt", "zip me");
  ASSERT_TRUE(pack(dir / "src/d", dir / "out.zip", ArchiveFormat::Zip));
  fs::create_directory(dir / "x");
  ASSERT_TRUE(extract(dir / "out.zip", dir / "x", ArchiveFormat::Zip, {}));
  EXPECT_EQ(read_file(dir / "x/d/f.txt"), "zip me");
}

TEST(IsTarball, OnlyGzippedTar) {
  ScratchDir dir;
  write_file(dir / "plain.txt", "not an archive");
  write_file(dir / "d/f", "x");
  ASSERT_EQ(run("cd " + quote(dir.path().string()) + " && tar -cf plain.tar d && gzip -k plain.txt")
                .exit_code,
            0);
  ASSERT_TRUE(pack(dir / "d", dir / "real.tgz", ArchiveFormat::TarGz));
  EXPECT_TRUE(*is_tarball(dir / "real.tgz"));
  EXPECT_FALSE(*is_tarball(dir / "plain.txt"));
  EXPECT_FALSE(*is_tarball(dir / "plain.tar"));     // argoexec wants gzip
  EXPECT_FALSE(*is_tarball(dir / "plain.txt.gz"));  // gzip, but not a tar inside
}

TEST(Unpack, SingleTopLevelEntryBecomesTheDestination) {
  ScratchDir dir;
  write_tar(dir / "file.tgz", {{TarEntry::Type::File, "only.txt", "content"}});
  ASSERT_TRUE(unpack(dir / "file.tgz", dir / "x1"));
  ASSERT_TRUE(move_unpacked(dir / "x1", dir / "result-file"));
  EXPECT_EQ(read_file(dir / "result-file"), "content");

  write_tar(dir / "dir.tgz", {{TarEntry::Type::Dir, "d/"}, {TarEntry::Type::File, "d/a", "A"}});
  ASSERT_TRUE(unpack(dir / "dir.tgz", dir / "x2"));
  ASSERT_TRUE(move_unpacked(dir / "x2", dir / "result-dir"));
  EXPECT_EQ(read_file(dir / "result-dir/a"), "A");

  write_tar(dir / "many.tgz", {{TarEntry::Type::File, "a", "1"}, {TarEntry::Type::File, "b", "2"}});
  ASSERT_TRUE(unpack(dir / "many.tgz", dir / "x3"));
  ASSERT_TRUE(move_unpacked(dir / "x3", dir / "result-many"));
  EXPECT_EQ(read_file(dir / "result-many/b"), "2");
  EXPECT_FALSE(fs::exists(dir / "x3"));
}

TEST(Unpack, RefusesParentTraversal) {
  ScratchDir dir;
  write_tar(dir / "evil.tgz", {{TarEntry::Type::File, "../x", "pwned"}});
  auto result = unpack(dir / "evil.tgz", dir / "dest");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("archive entry ../x escapes"), std::string::npos)
      << result.error().message;
  EXPECT_FALSE(fs::exists(dir / "x"));
  write_tar(dir / "evil2.tgz", {{TarEntry::Type::File, "a/../../y", "pwned"}});
  EXPECT_FALSE(unpack(dir / "evil2.tgz", dir / "dest2"));
  EXPECT_FALSE(fs::exists(dir / "y"));
}

TEST(Unpack, RefusesAbsoluteNames) {
  ScratchDir dir;
  const fs::path victim = dir / "victim";
  write_tar(dir / "evil.tgz", {{TarEntry::Type::File, victim.string(), "pwned"}});
  auto result = unpack(dir / "evil.tgz", dir / "dest");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("absolute"), std::string::npos) << result.error().message;
  EXPECT_FALSE(fs::exists(victim));
}

TEST(Unpack, RefusesSymlinksOutAndWritingThroughThem) {
  ScratchDir dir;
  ScratchDir outside;
  write_tar(dir / "abs.tgz", {{TarEntry::Type::Symlink, "link", outside.path().string()},
                              {TarEntry::Type::File, "link/pwned", "x"}});
  auto absolute = unpack(dir / "abs.tgz", dir / "d1");
  ASSERT_FALSE(absolute);
  EXPECT_NE(absolute.error().message.find("points outside the destination"), std::string::npos)
      << absolute.error().message;

  write_tar(dir / "rel.tgz", {{TarEntry::Type::Symlink, "link", "../../.."},
                              {TarEntry::Type::File, "link/pwned", "x"}});
  EXPECT_FALSE(unpack(dir / "rel.tgz", dir / "d2"));

  // Each link looks harmless on its own; together they climb out ("b" -> ".", "c" -> "b/..").
  write_tar(dir / "chain.tgz", {{TarEntry::Type::Symlink, "b", "."},
                                {TarEntry::Type::Symlink, "c", "b/.."},
                                {TarEntry::Type::File, "c/pwned", "x"}});
  auto chained = unpack(dir / "chain.tgz", dir / "d3");
  EXPECT_FALSE(chained);
  EXPECT_FALSE(fs::exists(dir / "pwned"));
  EXPECT_TRUE(fs::is_empty(outside.path()));
}

TEST(Unpack, RemovesSymlinksThatLaterEntriesPointOutside) {
  // Found by fuzzing (tests/fuzz/corpus/archive_extract/regression-retargeted-symlink.tgz): "a"
  // is inside when it is made (x does not exist yet); once "x -> ." exists, a resolves to the
  // parent of the destination and a module (or a later output artifact) could follow it.
  ScratchDir dir;
  write_tar(dir / "late.tgz", {{TarEntry::Type::Symlink, "a", "x/.."},
                               {TarEntry::Type::Symlink, "x", "."},
                               {TarEntry::Type::Symlink, "inside", "x/f"}});
  auto result = unpack(dir / "late.tgz", dir / "dest");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("archive entry a is a symlink that later entries make"),
            std::string::npos)
      << result.error().message;
  EXPECT_FALSE(fs::is_symlink(dir / "dest/a"));
  EXPECT_TRUE(fs::is_symlink(dir / "dest/inside"));  // resolves inside: kept
}

TEST(Unpack, RefusesHardLinksOut) {
  ScratchDir dir;
  write_file(dir / "secret", "s");
  write_tar(dir / "evil.tgz", {{TarEntry::Type::Hardlink, "h", "../secret"}});
  auto result = unpack(dir / "evil.tgz", dir / "dest");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("hard link"), std::string::npos) << result.error().message;
}

TEST(Unpack, AllowsLinksThatStayInside) {
  ScratchDir dir;
  write_tar(dir / "ok.tgz", {{TarEntry::Type::Dir, "d/"},
                             {TarEntry::Type::File, "d/f", "data"},
                             {TarEntry::Type::Symlink, "d/s", "f"},
                             {TarEntry::Type::Hardlink, "d/h", "d/f"}});
  ASSERT_TRUE(unpack(dir / "ok.tgz", dir / "dest"));
  EXPECT_EQ(read_file(dir / "dest/d/s"), "data");
  EXPECT_EQ(read_file(dir / "dest/d/h"), "data");
}

TEST(Unpack, TarBombStopsAtTheByteLimit) {
  ScratchDir dir;
  // 64 MiB of zeros compresses to ~64 KiB; the limit is 16 MiB.
  write_file(dir / "zeros", "");
  fs::resize_file(dir / "zeros", 64u << 20);
  ASSERT_TRUE(pack(dir / "zeros", dir / "bomb.tgz", ArchiveFormat::TarGz, 9));
  ASSERT_LT(fs::file_size(dir / "bomb.tgz"), 1u << 20);
  auto result = unpack(dir / "bomb.tgz", dir / "dest", {.max_bytes = 16u << 20, .max_entries = 10});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::LimitExceeded);
  EXPECT_NE(result.error().message.find("max_extract_bytes"), std::string::npos);
  // Stopped early: what got written stays within the limit plus one block.
  EXPECT_LE(fs::file_size(dir / "dest/zeros"), (16u << 20) + (1u << 20));
}

TEST(Unpack, LyingHeaderSizeIsCountedFromTheData) {
  ScratchDir dir;
  write_tar(dir / "t.tgz", {{TarEntry::Type::File, "f", std::string(4096, 'x')}});
  auto result = unpack(dir / "t.tgz", dir / "dest", {.max_bytes = 1000, .max_entries = 10});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::LimitExceeded);
}

TEST(Unpack, EntryCountLimit) {
  ScratchDir dir;
  std::vector<TarEntry> entries;
  for (int i = 0; i < 50; ++i)
    entries.push_back({TarEntry::Type::File, "f" + std::to_string(i), "x"});
  write_tar(dir / "many.tgz", entries);
  auto result = unpack(dir / "many.tgz", dir / "dest", {.max_bytes = 1u << 20, .max_entries = 20});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ErrorKind::LimitExceeded);
  EXPECT_NE(result.error().message.find("max_extract_entries"), std::string::npos);
}

TEST(Unpack, CorruptArchiveIsAnError) {
  ScratchDir dir;
  write_file(dir / "bad.tgz", std::string("\x1f\x8b\x08\x00garbage", 12));
  auto result = unpack(dir / "bad.tgz", dir / "dest");
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("archive"), std::string::npos);
}

// Archive work belongs to the step's one deadline: packing a big (sparse) output or unpacking an
// input stops there instead of running on after the step's timeout.
TEST(Pack, StopsAtTheDeadline) {
  ScratchDir dir;
  const fs::path big = dir / "big";
  write_file(big, "");
  fs::resize_file(big, 256ULL << 20);  // sparse: costs no disk, 256 MiB to read
  const auto passed = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  auto packed = pack(big, dir / "big.tgz", ArchiveFormat::TarGz, -1, {}, passed);
  ASSERT_FALSE(packed);
  EXPECT_EQ(packed.error().message, "the step's deadline passed");

  write_file(dir / "small", "small");
  ASSERT_TRUE(pack(dir / "small", dir / "small.tgz", ArchiveFormat::TarGz));
  fs::create_directory(dir / "out");
  ExtractLimits limits;
  limits.deadline = passed;
  auto extracted = extract(dir / "small.tgz", dir / "out", ArchiveFormat::TarGz, limits);
  ASSERT_FALSE(extracted);
  EXPECT_EQ(extracted.error().message, "the step's deadline passed");
}

TEST(Unpack, RefusesEntriesNestedTooDeep) {
  ScratchDir dir;
  fs::path deep = dir / "src" / "top";
  for (int i = 0; i < 12; ++i) deep /= "d";
  write_file(deep / "f", "f");
  ASSERT_TRUE(pack(dir / "src" / "top", dir / "deep.tgz", ArchiveFormat::TarGz));
  fs::create_directory(dir / "out");
  ExtractLimits limits;
  limits.max_depth = 10;
  auto extracted = extract(dir / "deep.tgz", dir / "out", ArchiveFormat::TarGz, limits);
  ASSERT_FALSE(extracted);
  EXPECT_EQ(extracted.error().kind, ErrorKind::LimitExceeded);
  EXPECT_NE(extracted.error().message.find("is nested deeper than 10 directories"),
            std::string::npos)
      << extracted.error().message;
}

}  // namespace
}  // namespace wwp::artifacts::test
