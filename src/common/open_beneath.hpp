// openat2(2): opens `relative` under the directory `dir_fd` with the kernel resolving symlinks and
// ".." under `resolve` (RESOLVE_BENEATH: never leave the directory; RESOLVE_IN_ROOT: treat it as
// "/"), in one system call and without a window for a swapped symlink. Linux 5.6 or newer.
#pragma once

#include <cstdint>
#include <string>

namespace wwp {

// The new descriptor, or -1 with errno set (EXDEV: the path leads out of the directory).
int open_beneath(int dir_fd, const std::string& relative, int flags, std::uint64_t resolve);

}  // namespace wwp
