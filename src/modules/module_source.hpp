// The one interface of the module sources (path under --module-dir, url + sha256, OCI reference):
// each turns a template's ModuleRef into verified bytes on local disk.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/deadline.hpp"
#include "common/digest.hpp"
#include "common/result.hpp"
#include "model/template.hpp"

namespace wwp::modules {

struct FetchedModule {
  Digest digest;               // of the module bytes
  std::filesystem::path file;  // where they are
  // Keeps the bytes from being evicted from a shared cache (in any process) while a copy of this
  // struct lives, i.e. until the module is compiled.
  std::shared_ptr<const void> lease;
  std::string resolved;  // what was fetched, when more precise than the ref (OCI: pinned digest)
};

class ModuleSource {
 public:
  virtual ~ModuleSource() = default;
  // Thread-safe. Network waits end at `deadline` (the step's). Errors carry the module's
  // location in their message.
  virtual Result<FetchedModule> fetch(const model::ModuleRef& ref, Deadline deadline) = 0;
};

}  // namespace wwp::modules
