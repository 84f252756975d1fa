#include "common/open_beneath.hpp"

#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace wwp {

int open_beneath(int dir_fd, const std::string& relative, int flags, std::uint64_t resolve) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  how.resolve = resolve;
  return static_cast<int>(
      ::syscall(SYS_openat2, dir_fd, relative.empty() ? "." : relative.c_str(), &how, sizeof how));
}

}  // namespace wwp
