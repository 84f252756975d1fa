// Turns a template's ModuleRef into a compiled module: the path, url or OCI source fetches the
// bytes, then the compiled-module cache compiles them (or finds them compiled).
#pragma once

#include "common/digest.hpp"
#include "common/result.hpp"
#include "model/template.hpp"
#include "modules/compiled_cache.hpp"
#include "modules/module_source.hpp"
#include "sandbox/compiled_module.hpp"

namespace wwp::modules {

// Whether resolving may compile (or load from disk) a module that is not compiled in memory.
enum class Compile { Allowed, MemoryOnly };

struct ResolvedModule {
  Digest digest;
  sandbox::CompiledModule compiled;
};

class ModuleResolver {
 public:
  // `oci` may be null: OCI references then fail saying OCI modules are not enabled.
  ModuleResolver(ModuleSource& paths, ModuleSource& urls, ModuleSource* oci, CompiledCache& cache);

  // `deadline` bounds fetching (a step's one deadline spans all its phases).
  // MemoryOnly: a module not compiled in memory is a Transient error, with nothing done.
  Result<ResolvedModule> resolve(const model::ModuleRef& ref, Deadline deadline = kNoDeadline,
                                 Compile compile = Compile::Allowed);

 private:
  Result<FetchedModule> fetch(const model::ModuleRef& ref, Deadline deadline);

  ModuleSource& paths_;
  ModuleSource& urls_;
  ModuleSource* oci_;
  CompiledCache& cache_;
};

}  // namespace wwp::modules
