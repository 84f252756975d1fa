#include "artifacts/raw_driver.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "artifacts/file_util.hpp"

namespace wwp::artifacts {

Result<Ok> write_raw(std::string_view data, const std::filesystem::path& destination) {
  auto fd = open_file(destination, O_WRONLY | O_CREAT | O_TRUNC);
  if (!fd) return fd.error();
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd->get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failed("cannot write " + destination.string() + ": " + errno_text(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return fd->close();
}

}  // namespace wwp::artifacts
