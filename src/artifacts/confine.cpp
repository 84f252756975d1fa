#include "artifacts/confine.hpp"

#include <system_error>

namespace wwp::artifacts {

namespace fs = std::filesystem;

bool is_within(const fs::path& base, const fs::path& path) {
  auto b = base.begin();
  auto p = path.begin();
  for (; b != base.end(); ++b, ++p) {
    if (b->empty()) continue;  // a trailing slash on base yields an empty last element
    if (p == path.end() || *p != *b) return false;
  }
  return true;
}

Result<fs::path> sandbox_path(const fs::path& root, std::string_view path) {
  if (path.empty()) return invalid("an empty path");
  if (path.find('\0') != std::string_view::npos) return invalid("path contains a NUL byte");
  fs::path relative;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (component == "..") {
      return invalid(std::string(path) +
                     ": contains '..'; paths must stay inside the sandbox (directory traversal is "
                     "not permitted)");
    }
    if (!component.empty() && component != ".") relative /= std::string(component);
    start = end + 1;
  }
  return relative.empty() ? root : root / relative;
}

Result<Ok> check_inside(const fs::path& root, const fs::path& host_path) {
  std::error_code ec;
  fs::path real_root = fs::canonical(root, ec);
  if (ec) return failed("sandbox root " + root.string() + ": " + ec.message());
  const fs::path relative = host_path.lexically_relative(root);
  if (relative.empty() || *relative.begin() == "..") {
    return failed(host_path.string() + " is outside the sandbox");
  }
  fs::path current = root;
  for (const auto& component : relative) {
    if (component == ".") continue;
    current /= component;
    auto status = fs::symlink_status(current, ec);
    if (ec || !fs::exists(status)) return Ok{};  // the rest does not exist yet
    if (!fs::is_symlink(status)) continue;
    fs::path target = fs::read_symlink(current, ec);
    // Resolve from the link's own text rather than weakly_canonical(current): a dangling link
    // counts as "not existing" there and would be judged by its name instead of its target.
    fs::path resolved;
    if (!ec) {
      resolved = target.is_absolute() ? target : current.parent_path() / target;
      resolved = fs::weakly_canonical(resolved, ec).lexically_normal();
    }
    if (ec) {
      return failed("symlink /" + current.lexically_relative(root).string() + " -> " +
                    target.string() + " cannot be resolved: " + ec.message());
    }
    if (!is_within(real_root, resolved)) {
      return failed("symlink /" + current.lexically_relative(root).string() + " -> " +
                    target.string() + " points outside the sandbox");
    }
  }
  return Ok{};
}

Result<fs::path> confine(const fs::path& root, std::string_view path) {
  auto host = sandbox_path(root, path);
  if (!host) return host.error();
  WWP_TRY(check_inside(root, *host));
  return host;
}

}  // namespace wwp::artifacts
