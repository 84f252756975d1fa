// OCI references as container tools read them: `[registry[:port]/]repo[:tag][@sha256:...]`.
// Docker Hub short names get `library/` and the registry `registry-1.docker.io` (the host its
// API is served from), a reference without tag or digest means `:latest`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/digest.hpp"
#include "common/result.hpp"

namespace wwp::oci {

inline constexpr std::string_view kDockerHubRegistry = "registry-1.docker.io";

struct Reference {
  std::string registry;    // host[:port], Docker Hub normalised to registry-1.docker.io
  std::string repository;  // path inside the registry, e.g. library/alpine
  std::optional<std::string> tag;
  std::optional<Digest> digest;

  // What to ask the registry for: the digest when pinned, otherwise the tag.
  std::string manifest_reference() const;
  // registry/repository[:tag][@digest]; parses back to the same Reference.
  std::string str() const;
  // registry/repository
  std::string name() const;
};

// Parses a reference; an `oci://` prefix is accepted and dropped. Errors are InvalidRequest and
// name the part at fault.
Result<Reference> parse_reference(std::string_view text);

// Maps the names Docker Hub is known by (docker.io, index.docker.io, registry-1.docker.io,
// registry.hub.docker.com, and the legacy https://index.docker.io/v1/ config key) to
// registry-1.docker.io; other hosts come back lowercased without scheme or path.
std::string normalize_registry_host(std::string_view host);

}  // namespace wwp::oci
