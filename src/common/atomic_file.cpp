#include "common/atomic_file.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>
#include <sstream>

namespace wwp {

namespace fs = std::filesystem;

fs::path temp_path_in(const fs::path& dir) {
  static std::atomic<unsigned> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::ostringstream name;
  name << kTempPrefix << ::getpid() << "-" << counter++ << "-" << std::hex << rng();
  return dir / name.str();
}

namespace {

// Renames `temp` over `path`, removing `temp` when that fails.
Result<Ok> publish(const fs::path& temp, const fs::path& path) {
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    return failed("cannot write " + path.string() + ": " + ec.message());
  }
  return Ok{};
}

}  // namespace

Result<Ok> write_file_atomically(const fs::path& path, std::string_view content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path temp = temp_path_in(path.parent_path());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      fs::remove(temp, ec);
      return failed("cannot write " + path.string());
    }
  }
  return publish(temp, path);
}

Result<Ok> copy_file_atomically(const fs::path& source, const fs::path& destination) {
  const fs::path temp = temp_path_in(destination.parent_path());
  std::error_code ec;
  fs::copy_file(source, temp, fs::copy_options::overwrite_existing, ec);
  if (!ec) {
    fs::permissions(temp,
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                        fs::perms::others_read,
                    ec);
  }
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    return failed("cannot write " + destination.string() + ": " + ec.message());
  }
  return publish(temp, destination);
}

std::size_t remove_old_temp_files(const fs::path& dir, std::chrono::seconds age) {
  std::size_t removed = 0;
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->path().filename().string().starts_with(kTempPrefix)) continue;
    std::error_code time_ec;
    const auto modified = fs::last_write_time(it->path(), time_ec);
    if (!time_ec && now - modified > age && fs::remove(it->path(), time_ec)) ++removed;
  }
  return removed;
}

}  // namespace wwp
