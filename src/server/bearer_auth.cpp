#include "server/bearer_auth.hpp"

#include <openssl/crypto.h>

#include "common/file_bytes.hpp"

namespace wwp::server {

Result<BearerAuth> BearerAuth::from_file(const std::filesystem::path& token_file) {
  auto content = read_file(token_file, 64 * 1024);
  if (!content) {
    return failed("cannot read the token file " + token_file.string() + " (" +
                  content.error().message +
                  "); pass --insecure-no-token to run without authentication");
  }
  std::string token = std::move(*content);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.empty()) return failed("the token file " + token_file.string() + " is empty");
  BearerAuth auth;
  auth.token_ = std::move(token);
  return auth;
}

BearerAuth BearerAuth::disabled() { return BearerAuth{}; }

bool BearerAuth::allows(std::string_view header) const {
  if (!token_) return true;
  constexpr std::string_view kScheme = "Bearer ";
  if (!header.starts_with(kScheme)) return false;
  std::string_view presented = header.substr(kScheme.size());
  if (presented.size() != token_->size()) return false;
  return CRYPTO_memcmp(presented.data(), token_->data(), token_->size()) == 0;
}

}  // namespace wwp::server
