#include "modules/module_resolver.hpp"

namespace wwp::modules {

ModuleResolver::ModuleResolver(ModuleSource& paths, ModuleSource& urls, ModuleSource* oci,
                               CompiledCache& cache)
    : paths_(paths), urls_(urls), oci_(oci), cache_(cache) {}

Result<FetchedModule> ModuleResolver::fetch(const model::ModuleRef& ref, Deadline deadline) {
  switch (ref.kind) {
    case model::ModuleRef::Kind::Path:
      return paths_.fetch(ref, deadline);
    case model::ModuleRef::Kind::Url:
      return urls_.fetch(ref, deadline);
    case model::ModuleRef::Kind::Oci:
      if (oci_ == nullptr)
        return failed("module " + ref.location + ": OCI modules are not enabled in this plugin");
      return oci_->fetch(ref, deadline);
  }
  return failed("unknown module source");
}

Result<ResolvedModule> ModuleResolver::resolve(const model::ModuleRef& ref, Deadline deadline) {
  WWP_TRY_ASSIGN(const FetchedModule fetched, fetch(ref, deadline));
  auto compiled = cache_.get(fetched.digest, fetched.file);
  if (!compiled) return compiled.error().context("module " + ref.location);
  return ResolvedModule{fetched.digest, *compiled};
}

}  // namespace wwp::modules
