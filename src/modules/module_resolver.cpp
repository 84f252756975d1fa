#include "modules/module_resolver.hpp"

#include "telemetry/span.hpp"

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

Result<ResolvedModule> ModuleResolver::resolve(const model::ModuleRef& ref, Deadline deadline,
                                               Compile compile) {
  auto fetched = [&] {
    telemetry::Span resolving = telemetry::start_child("resolve module");
    resolving.set("wasm.module.ref", ref.location);
    const telemetry::ActiveSpan active(resolving);  // a source says whether it pulled
    auto result = fetch(ref, deadline);
    if (result) {
      resolving.set("wasm.module.digest", result->digest.str());
    } else {
      resolving.set_error(result.error().message);
    }
    return result;
  }();
  if (!fetched) return fetched.error();

  telemetry::Span compiling = telemetry::start_child("compile module");
  compiling.set("wasm.module.digest", fetched->digest.str());
  const telemetry::ActiveSpan active(compiling);  // the cache says how it found the code
  auto compiled = compile == Compile::MemoryOnly ? cache_.find_in_memory(fetched->digest)
                                                 : cache_.get(fetched->digest, fetched->file);
  if (!compiled) {
    compiling.set_error(compiled.error().message);
    return compiled.error().context("module " + ref.location);
  }
  return ResolvedModule{fetched->digest, *compiled};
}

}  // namespace wwp::modules
