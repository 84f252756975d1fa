// Turns a template's ModuleRef into a compiled module: path, url or OCI source, then the
// compiled-module cache.
#pragma once

#include <filesystem>
#include <memory>

#include "common/result.hpp"
#include "model/template.hpp"
#include "modules/blob_store.hpp"
#include "modules/compiled_cache.hpp"
#include "modules/path_source.hpp"
#include "modules/url_source.hpp"
#include "sandbox/compiled_module.hpp"

namespace wwp::modules {

class OciModuleSource;

struct ResolvedModule {
  Digest digest;
  sandbox::CompiledModule compiled;
};

// Where OCI references are resolved; implemented by OciModuleSource.
class OciFetcher {
 public:
  virtual ~OciFetcher() = default;
  virtual Result<FetchedFile> fetch(const std::string& reference, model::PullPolicy policy) = 0;
};

class ModuleResolver {
 public:
  ModuleResolver(PathSource& paths, UrlSource& urls, OciFetcher* oci, CompiledCache& cache);

  Result<ResolvedModule> resolve(const model::ModuleRef& ref);

 private:
  Result<FetchedFile> fetch(const model::ModuleRef& ref);

  PathSource& paths_;
  UrlSource& urls_;
  OciFetcher* oci_;
  CompiledCache& cache_;
};

}  // namespace wwp::modules
