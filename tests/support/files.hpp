// Whole-file reads and writes for test set-up and checks.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace wwp::test {

// Creates parent directories; throws when the file cannot be written (a broken test set-up).
void write_file(const std::filesystem::path& path, std::string_view bytes);
// The file's bytes, or "<missing PATH>" so a failed expectation shows what was absent.
std::string read_file(const std::filesystem::path& path);

}  // namespace wwp::test
