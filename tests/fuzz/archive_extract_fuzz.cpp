// Artifact archives (tar, tar.gz and other tar compressions, zip) from the artifact repository or
// an http/raw source, extracted into a step's sandbox. Besides "no crash", the oracle is
// confinement: after extract() - whether it succeeded or refused the archive - nothing exists
// outside the destination that was not there before, every symlink inside resolves inside, and no
// file inside shares its inode with a file outside.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "artifacts/archive.hpp"
#include "artifacts/confine.hpp"
#include "fuzz_check.hpp"

namespace fs = std::filesystem;

namespace {

// Where seeds with absolute entry names point; it must never appear.
const fs::path kAbsoluteCanary = "/tmp/wwp-fuzz-absolute-canary";

const fs::path& work_dir() {
  static const fs::path dir = [] {
    std::string pattern = (fs::temp_directory_path() / "wwp-fuzz-archive-XXXXXX").string();
    const char* made = ::mkdtemp(pattern.data());
    WWP_FUZZ_CHECK(made != nullptr, "cannot create the work directory");
    std::atexit([] { fs::remove_all(work_dir()); });
    return fs::path(made);
  }();
  return dir;
}

bool starts_with(std::string_view data, std::string_view magic) { return data.starts_with(magic); }

void check_confined(const fs::path& root, const fs::path& archive, const fs::path& destination) {
  for (const auto& entry : fs::directory_iterator(root)) {
    WWP_FUZZ_CHECK(entry.path() == archive || entry.path() == destination,
                   "extract() wrote next to the destination: " + entry.path().string());
  }
  WWP_FUZZ_CHECK(!fs::exists(kAbsoluteCanary), "extract() wrote to an absolute path");
  const fs::path real_destination = fs::canonical(destination);
  std::map<ino_t, nlink_t> links_seen;  // inode -> names found inside
  std::map<ino_t, nlink_t> links_total;
  for (auto it = fs::recursive_directory_iterator(destination); it != fs::end(it); ++it) {
    struct stat st {};
    WWP_FUZZ_CHECK(::lstat(it->path().c_str(), &st) == 0, "cannot lstat an extracted entry");
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const fs::path resolved = fs::weakly_canonical(it->path(), ec);
      WWP_FUZZ_CHECK(ec || wwp::artifacts::is_within(real_destination, resolved.lexically_normal()),
                     "a symlink leads outside the destination: " + it->path().string() + " -> " +
                         resolved.string());
    } else if (S_ISREG(st.st_mode)) {
      ++links_seen[st.st_ino];
      links_total[st.st_ino] = st.st_nlink;
    }
  }
  for (const auto& [inode, seen] : links_seen) {
    WWP_FUZZ_CHECK(seen == links_total[inode], "a hard link to a file outside the destination");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = wwp::fuzz::as_text(data, size);
  const fs::path root = work_dir() / "run";
  const fs::path archive = root / "archive";
  const fs::path destination = root / "destination";
  fs::remove_all(root);
  fs::create_directories(destination);
  {
    std::ofstream out(archive, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  const auto format = starts_with(bytes, "PK") ? wwp::artifacts::ArchiveFormat::Zip
                                               : wwp::artifacts::ArchiveFormat::TarGz;
  wwp::artifacts::ExtractLimits limits;
  limits.max_bytes = 16ULL << 20;
  limits.max_entries = 1000;
  limits.max_depth = 32;
  auto extracted = wwp::artifacts::extract(archive, destination, format, limits);
  if (!extracted) {
    WWP_FUZZ_CHECK(!extracted.error().message.empty(), "an error without a message");
  }
  check_confined(root, archive, destination);
  fs::remove_all(root);
  return 0;
}
