// Write-then-rename: a reader (in this or another process) sees the old file or the whole new
// one, never a torn one. Temporary files are named ".tmp-*" in the target's directory (same
// filesystem, so rename(2) is atomic); readers and cleanup recognise them by that prefix.
#pragma once

#include <chrono>
#include <filesystem>
#include <string_view>

#include "common/result.hpp"

namespace wwp {

inline constexpr std::string_view kTempPrefix = ".tmp-";

// A fresh, unused-looking name "<dir>/.tmp-<pid>-<counter>-<random>".
std::filesystem::path temp_path_in(const std::filesystem::path& dir);

// Creates the parent directory if needed, writes `content` beside `path`, renames it into place.
Result<Ok> write_file_atomically(const std::filesystem::path& path, std::string_view content);

// Copies `source` beside `destination` (mode 0644), then renames it into place.
Result<Ok> copy_file_atomically(const std::filesystem::path& source,
                                const std::filesystem::path& destination);

// Deletes ".tmp-*" files in `dir` older than `age` (left by a process that died mid-write).
// Returns how many were removed.
std::size_t remove_old_temp_files(const std::filesystem::path& dir, std::chrono::seconds age);

}  // namespace wwp
