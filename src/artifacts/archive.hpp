// Packing and unpacking artifacts the way argoexec does (workflow/executor/executor.go and
// util/archive): a file is stored as one entry named after it, a directory as entries under its
// own name, and unpacking an archive whose top level holds one entry yields that entry itself.
// Everything streams through libarchive in fixed-size blocks.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "common/deadline.hpp"
#include "common/result.hpp"

namespace wwp::artifacts {

enum class ArchiveFormat { TarGz, Zip };

struct ExtractLimits {
  std::uint64_t max_bytes = 10ULL << 30;  // total size of the extracted files
  std::uint64_t max_entries = 100000;
  std::uint64_t max_depth = 100;    // directory levels of an entry's name
  Deadline deadline = kNoDeadline;  // the step's: extraction stops there
};

// Writes `source` (a regular file or a directory, not followed if it is a symlink) into
// `archive_file`. Directory symlinks are stored as symlinks; sockets and devices are skipped.
// `compression_level` is gzip's -1 (default) to 9 and applies to TarGz only. The top entry is
// named `top_name`, or after `source` when empty. Past `deadline` it stops with an error.
Result<Ok> pack(const std::filesystem::path& source, const std::filesystem::path& archive_file,
                ArchiveFormat format, int compression_level = -1, std::string_view top_name = {},
                Deadline deadline = kNoDeadline);

// argoexec's test for "is this a tarball": gzip-compressed data that starts with a tar header.
Result<bool> is_tarball(const std::filesystem::path& file);

// Extracts `archive_file` into `destination` (an existing, empty directory). Refuses entries that
// would land outside `destination` (absolute names, "..", symlinks and hard links that lead out,
// writing through a symlink) and stops with ErrorKind::LimitExceeded when the extracted size or
// the entry count or an entry's depth passes `limits` (the size is counted while writing, headers
// are not trusted), and with an error at the deadline.
// Tar archives may be gzip-, bzip2-, xz- or zstd-compressed or plain.
Result<Ok> extract(const std::filesystem::path& archive_file,
                   const std::filesystem::path& destination, ArchiveFormat format,
                   const ExtractLimits& limits);

// argoexec's last step: if `extracted_dir` holds exactly one entry, that entry is moved to
// `destination`; otherwise the directory itself becomes `destination`.
Result<Ok> move_unpacked(const std::filesystem::path& extracted_dir,
                         const std::filesystem::path& destination);

}  // namespace wwp::artifacts
