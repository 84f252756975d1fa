// Modules named by `module: {url: ..., sha256: ...}`: downloaded once, verified, and kept in the
// content-addressed blob store; a digest already present is never downloaded again.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/result.hpp"
#include "modules/blob_store.hpp"
#include "modules/path_source.hpp"

namespace wwp::modules {

struct UrlSettings {
  std::uint64_t max_bytes = 256ULL << 20;
  std::chrono::milliseconds timeout{60000};
  int attempts = 3;
};

class UrlSource {
 public:
  UrlSource(BlobStore& store, UrlSettings settings);

  Result<FetchedFile> fetch(const std::string& url, const Digest& expected);

 private:
  Result<Ok> download(const std::string& url, const std::filesystem::path& into);

  BlobStore& store_;
  UrlSettings settings_;
};

}  // namespace wwp::modules
