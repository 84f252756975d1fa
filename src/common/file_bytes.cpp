#include "common/file_bytes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/units.hpp"

namespace wwp {

Result<std::string> read_open_file(int fd, const std::string& name, std::uint64_t limit) {
  struct stat st {};
  Result<std::string> result = failed(name + " is not a regular file");
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    if (static_cast<std::uint64_t>(st.st_size) > limit) {
      result = limit_exceeded(name + " is larger than the limit of " + format_quantity(limit));
    } else {
      std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
      std::size_t done = 0;
      while (done < bytes.size()) {
        ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
      }
      bytes.resize(done);
      result = std::move(bytes);
    }
  }
  ::close(fd);
  return result;
}

Result<std::string> read_file(const std::filesystem::path& path, std::uint64_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return not_found(path.string() + " does not exist");
    return failed("cannot open " + path.string() + ": " + std::strerror(err));
  }
  return read_open_file(fd, path.string(), limit);
}

}  // namespace wwp
