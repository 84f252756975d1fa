#include "files.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace wwp::test {

namespace fs = std::filesystem;

void write_file(const fs::path& path, std::string_view bytes) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "<missing " + path.string() + ">";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace wwp::test
