// Checks the agent's "Authorization: Bearer <token>" against the token file Argo mounts into the
// plugin's container (/var/run/argo/token), in constant time.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/result.hpp"

namespace wwp::server {

class BearerAuth {
 public:
  // Reads the token once; Argo writes it before the sidecar starts and never rotates it.
  static Result<BearerAuth> from_file(const std::filesystem::path& token_file);
  // Accepts every request; only with the explicit --insecure-no-token flag.
  static BearerAuth disabled();

  bool allows(std::string_view authorization_header) const;
  bool enabled() const { return token_.has_value(); }

 private:
  std::optional<std::string> token_;
};

}  // namespace wwp::server
