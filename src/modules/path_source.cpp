#include "modules/path_source.hpp"

#include <sys/stat.h>

#include "common/file_bytes.hpp"

namespace wwp::modules {

namespace fs = std::filesystem;

PathSource::PathSource(fs::path module_dir) : module_dir_(std::move(module_dir)) {
  std::error_code ec;
  if (!module_dir_.empty()) canonical_root_ = fs::canonical(module_dir_, ec);
}

Result<FetchedModule> PathSource::fetch(const model::ModuleRef& ref, Deadline /*local disk*/) {
  WWP_TRY_ASSIGN(FetchedModule fetched, fetch(ref.location));
  if (ref.sha256 && fetched.digest.hex != *ref.sha256) {
    return failed("module " + ref.location + ": digest mismatch: expected sha256:" + *ref.sha256 +
                  ", got " + fetched.digest.str());
  }
  return fetched;
}

Result<FetchedModule> PathSource::fetch(const std::string& relative) {
  if (module_dir_.empty()) {
    return failed("module path " + relative + ": the plugin has no --module-dir configured");
  }
  std::error_code ec;
  fs::path root;
  {
    // The directory may be mounted after start; resolve it once it exists.
    std::lock_guard lock(mutex_);
    if (canonical_root_.empty()) canonical_root_ = fs::canonical(module_dir_, ec);
    root = canonical_root_;
  }
  if (ec) return failed("module directory " + module_dir_.string() + ": " + ec.message());
  const fs::path candidate = fs::weakly_canonical(root / fs::path(relative).relative_path(), ec);
  if (ec) return failed("module path " + relative + ": " + ec.message());
  auto [root_end, ignored] =
      std::mismatch(root.begin(), root.end(), candidate.begin(), candidate.end());
  if (root_end != root.end() || fs::path(relative).is_absolute()) {
    return invalid("module path " + relative + " is outside the module directory");
  }
  struct stat st {};
  if (::stat(candidate.c_str(), &st) != 0) {
    return not_found("module " + relative + " not found in " + module_dir_.string());
  }
  if (!S_ISREG(st.st_mode)) return invalid("module path " + relative + " is not a file");
  const Stamp stamp{st.st_ino, static_cast<std::uintmax_t>(st.st_size),
                    st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec};
  {
    std::lock_guard lock(mutex_);
    if (auto it = known_.find(candidate.string());
        it != known_.end() && it->second.first == stamp) {
      return it->second.second;
    }
  }
  auto bytes = read_file(candidate);
  if (!bytes) return bytes.error().context("module " + relative);
  FetchedModule fetched{sha256_of(*bytes), candidate, nullptr, candidate.string()};
  std::lock_guard lock(mutex_);
  known_[candidate.string()] = {stamp, fetched};
  return fetched;
}

}  // namespace wwp::modules
