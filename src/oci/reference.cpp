#include "oci/reference.hpp"

#include <algorithm>
#include <cctype>

#include "common/text.hpp"

namespace wwp::oci {

namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+
bool valid_path_component(std::string_view part) {
  if (part.empty() || !is_lower_alnum(part.front()) || !is_lower_alnum(part.back())) return false;
  for (std::size_t i = 0; i < part.size();) {
    if (is_lower_alnum(part[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < part.size() && !is_lower_alnum(part[j])) ++j;
    const std::string_view separator = part.substr(i, j - i);
    const bool ok = separator == "." || separator == "_" || separator == "__" ||
                    separator.find_first_not_of('-') == std::string_view::npos;
    if (!ok) return false;
    i = j;
  }
  return true;
}

// tag := [\w][\w.-]{0,127}
bool valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || !is_word(tag.front())) return false;
  return std::all_of(tag.begin(), tag.end(),
                     [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

bool valid_host(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') {  // IPv6 literal
    return host.back() == ']' && host.size() > 2 &&
           host.find_first_not_of("0123456789abcdefABCDEF:.", 1) == host.size() - 1;
  }
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  }
  return host.front() != '-' && host.back() != '-' && host.front() != '.' && host.back() != '.';
}

bool valid_domain(std::string_view domain) {
  std::string_view host = domain;
  const std::size_t bracket = domain.rfind(']');
  const std::size_t colon = domain.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    const std::string_view port = domain.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
    host = domain.substr(0, colon);
  }
  return valid_host(host);
}

}  // namespace

std::string normalize_registry_host(std::string_view host) {
  if (host.starts_with("https://"))
    host.remove_prefix(8);
  else if (host.starts_with("http://"))
    host.remove_prefix(7);
  if (const auto slash = host.find('/'); slash != std::string_view::npos)
    host = host.substr(0, slash);
  std::string normalized = to_lower(host);
  if (normalized == "docker.io" || normalized == "index.docker.io" ||
      normalized == "registry-1.docker.io" || normalized == "registry.hub.docker.com") {
    return std::string(kDockerHubRegistry);
  }
  return normalized;
}

std::string Reference::manifest_reference() const {
  if (digest) return digest->str();
  return tag.value_or("latest");
}

std::string Reference::name() const { return registry + "/" + repository; }

std::string Reference::str() const {
  std::string out = name();
  // Appended piecewise: GCC 12 at -O3 warns falsely (-Wrestrict) about ":" + *tag here.
  if (tag) out.append(1, ':').append(*tag);
  if (digest) out.append(1, '@').append(digest->str());
  return out;
}

Result<Reference> parse_reference(std::string_view text) {
  const std::string original(text);
  auto bad = [&](std::string_view why) {
    return invalid("invalid OCI reference \"" + original + "\": " + std::string(why));
  };
  if (text.starts_with("oci://")) text.remove_prefix(6);
  if (text.empty()) return bad("empty");
  if (text.find_first_of(" \t\r\n") != std::string_view::npos) return bad("contains whitespace");

  Reference ref;
  if (const auto at = text.find('@'); at != std::string_view::npos) {
    const std::string_view digest = text.substr(at + 1);
    text = text.substr(0, at);
    const auto colon = digest.find(':');
    if (colon == std::string_view::npos) return bad("digest must look like sha256:<64 hex digits>");
    if (digest.substr(0, colon) != "sha256") {
      return bad("unsupported digest algorithm \"" + std::string(digest.substr(0, colon)) +
                 "\" (only sha256)");
    }
    auto parsed = parse_digest(digest);
    if (!parsed) return bad("digest must be sha256: followed by 64 lowercase hex digits");
    ref.digest = std::move(*parsed);
  }

  // The tag follows the last ':' after the last '/', so a registry port is never taken for one.
  const auto last_slash = text.rfind('/');
  const auto tag_colon = text.rfind(':');
  if (tag_colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || tag_colon > last_slash)) {
    const std::string_view tag = text.substr(tag_colon + 1);
    if (!valid_tag(tag)) return bad("invalid tag \"" + std::string(tag) + "\"");
    ref.tag = std::string(tag);
    text = text.substr(0, tag_colon);
  }
  if (text.empty()) return bad("missing repository name");

  // As Docker decides: the first component is a registry if it has a '.' or ':', is localhost,
  // or has uppercase letters (repositories never do); everything else lives on Docker Hub.
  std::string_view path = text;
  const auto first_slash = text.find('/');
  if (first_slash != std::string_view::npos) {
    const std::string_view first = text.substr(0, first_slash);
    const bool is_domain = first.find_first_of(".:") != std::string_view::npos ||
                           first == "localhost" || to_lower(first) != first;
    if (is_domain) {
      if (!valid_domain(first)) return bad("invalid registry \"" + std::string(first) + "\"");
      ref.registry = normalize_registry_host(first);
      // "MyHost" is a registry only because of its capitals: lowercased it would print as a
      // Docker Hub user, so it keeps them (hosts are case-insensitive; Docker keeps them too).
      if (ref.registry.find_first_of(".:") == std::string::npos && ref.registry != "localhost")
        ref.registry = std::string(first);
      path = text.substr(first_slash + 1);
    }
  }
  if (ref.registry.empty()) ref.registry = std::string(kDockerHubRegistry);
  if (path.empty()) return bad("missing repository name");

  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    const std::string_view component = path.substr(start, end - start);
    if (!valid_path_component(component)) {
      return bad("invalid repository name \"" + std::string(path) +
                 "\" (lowercase letters, digits and separators . _ __ - only)");
    }
    start = end + 1;
  }
  ref.repository = std::string(path);
  if (ref.registry == kDockerHubRegistry && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.name().size() > 255) return bad("name longer than 255 characters");
  if (!ref.tag && !ref.digest) ref.tag = "latest";
  return ref;
}

}  // namespace wwp::oci
