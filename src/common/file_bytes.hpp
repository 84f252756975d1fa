// Reading whole files with a size limit, for modules, results and output parameters.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace wwp {

// Reads at most `limit` bytes; a larger file is an ErrorKind::LimitExceeded error.
Result<std::string> read_file(const std::filesystem::path& path, std::uint64_t limit = UINT64_MAX);

// Reads the regular file behind `fd` (and closes it); `name` is what error messages call it.
Result<std::string> read_open_file(int fd, const std::string& name, std::uint64_t limit);

}  // namespace wwp
