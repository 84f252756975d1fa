// Input artifacts with a `raw` location: the data is in the template itself.
#pragma once

#include <filesystem>
#include <string_view>

#include "common/result.hpp"

namespace wwp::artifacts {

Result<Ok> write_raw(std::string_view data, const std::filesystem::path& destination);

}  // namespace wwp::artifacts
