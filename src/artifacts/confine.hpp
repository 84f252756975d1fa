// Keeps artifact paths inside a step's sandbox. The module sees the sandbox directory as "/", so
// "/tmp/in.txt" means <root>/tmp/in.txt; nothing an artifact names (its path, a symlink on the way,
// an entry of an archive) may reach outside <root>.
//
// Symlinks are checked when we use a path, not when the module is running: the executor calls us
// before the module starts and after it finished, so nothing changes the tree between our check
// and our use.
#pragma once

#include <filesystem>
#include <string_view>

#include "common/result.hpp"

namespace wwp::artifacts {

// Lexical check and mapping: refuses empty paths, NUL bytes and any ".." component (even one that
// would stay inside, as Argo does: it is never needed and always suspicious). Relative paths are
// taken from "/". Returns <root>/<path> with "." components and repeated slashes removed.
// Error messages start with the offending path; the kind is InvalidRequest (a malformed path).
Result<std::filesystem::path> sandbox_path(const std::filesystem::path& root,
                                           std::string_view path);

// Refuses `host_path` (under `root`) when an existing component of it, the last one included, is
// a symlink that resolves outside `root`. Components that do not exist yet are fine. The kind is
// Failed: it is the state of the filesystem, not the request, that is at fault.
Result<Ok> check_inside(const std::filesystem::path& root, const std::filesystem::path& host_path);

// Both of the above.
Result<std::filesystem::path> confine(const std::filesystem::path& root, std::string_view path);

// True when `path` is `base` or below it; both must already be lexically normal.
bool is_within(const std::filesystem::path& base, const std::filesystem::path& path);

}  // namespace wwp::artifacts
