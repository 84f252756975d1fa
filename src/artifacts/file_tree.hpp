// Measuring and removing directory trees a module made, whatever their shape. A module can build a
// tree 20,000 directories deep in a fraction of a second; walking it with one open descriptor per
// level (std::filesystem, nftw) runs out of descriptors, and building full paths costs memory
// quadratic in the depth and fails past PATH_MAX. These walks keep one directory open at a time,
// address entries by name relative to it, and climb back with ".." checked against the device and
// inode recorded on the way down, so a directory moved during the walk is noticed, never followed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>

#include "common/result.hpp"

namespace wwp::artifacts {

struct TreeLimits {
  static constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_bytes = kNone;       // regular files by size (holes count), others by blocks
  std::uint64_t max_entries = kNone;     // files, directories, links below the root
  std::uint64_t max_depth = kNone;       // directories nested below the root
  std::uint64_t max_path_bytes = kNone;  // length of the longest path relative to the root
};

struct TreeUsage {
  enum class Exceeded { None, Bytes, Entries, Depth, PathLength };
  std::uint64_t bytes = 0;
  std::uint64_t entries = 0;
  std::uint64_t depth = 0;  // deepest directory level seen
  // The first limit passed; the walk stops there, so the counts are lower bounds.
  Exceeded exceeded = Exceeded::None;
};

// Adds up the tree at `root` (a directory; a file or symlink counts as itself), stopping at the
// first limit passed. Hard-linked files count once. Errors: `root` cannot be opened, or the tree
// changed under the walk (the caller may simply measure again later).
Result<TreeUsage> measure_tree(const std::filesystem::path& root, const TreeLimits& limits);

// Removes `path` and everything below it, never following a symlink and never leaving the
// device `path` is on; directories without write or search permission are made accessible first.
// Best effort: keeps going after a failure and reports the first one. Missing `path` is fine.
Result<Ok> remove_tree(const std::filesystem::path& path);

}  // namespace wwp::artifacts
