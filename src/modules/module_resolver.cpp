#include "modules/module_resolver.hpp"

namespace wwp::modules {

ModuleResolver::ModuleResolver(PathSource& paths, UrlSource& urls, OciFetcher* oci,
                               CompiledCache& cache)
    : paths_(paths), urls_(urls), oci_(oci), cache_(cache) {}

Result<FetchedFile> ModuleResolver::fetch(const model::ModuleRef& ref) {
  switch (ref.kind) {
    case model::ModuleRef::Kind::Path: {
      auto fetched = paths_.fetch(ref.location);
      if (fetched && ref.sha256 && fetched->digest.hex != *ref.sha256) {
        return failed("module " + ref.location + ": digest mismatch: expected sha256:" +
                      *ref.sha256 + ", got " + fetched->digest.str());
      }
      return fetched;
    }
    case model::ModuleRef::Kind::Url:
      return urls_.fetch(ref.location, Digest{*ref.sha256});
    case model::ModuleRef::Kind::Oci:
      if (oci_ == nullptr)
        return failed("module " + ref.location + ": OCI modules are not enabled in this plugin");
      return oci_->fetch(ref.location, ref.pull_policy.value_or(model::PullPolicy::IfNotPresent));
  }
  return failed("unknown module source");
}

Result<ResolvedModule> ModuleResolver::resolve(const model::ModuleRef& ref) {
  auto fetched = fetch(ref);
  if (!fetched) return fetched.error();
  auto compiled = cache_.get(fetched->digest, fetched->file);
  if (!compiled) return compiled.error().context("module " + ref.location);
  return ResolvedModule{fetched->digest, *compiled};
}

}  // namespace wwp::modules
