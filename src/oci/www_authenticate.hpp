// Parsing of `WWW-Authenticate` (RFC 7235): registries answer 401 with a Bearer challenge
// (`Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"`)
// or a Basic one. A header may carry several challenges.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wwp::oci {

struct Challenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // names lowercased, values unquoted
  std::string token68;                        // for schemes that carry one instead of params

  std::optional<std::string> param(const std::string& name) const;
};

// Malformed trailing parts are ignored: a registry's odd header should not hide a usable
// challenge that came before it.
std::vector<Challenge> parse_www_authenticate(std::string_view header);

}  // namespace wwp::oci
