#include "artifacts/http_driver.hpp"

#include <fcntl.h>

#include <functional>

#include "artifacts/file_util.hpp"

namespace wwp::artifacts {

namespace {

// The URL without its query string: queries often carry signatures or tokens.
std::string redacted(const std::string& url) { return url.substr(0, url.find('?')); }

}  // namespace

Result<Ok> http_download(const model::HttpLocation& location,
                         const std::filesystem::path& destination, const RetryPolicy& retry,
                         const TransferOptions& transfer) {
  if (!location.url.starts_with("http://") && !location.url.starts_with("https://")) {
    return invalid("http artifact url must start with http:// or https://");
  }
  auto fd = open_file(destination, O_WRONLY | O_CREAT | O_TRUNC);
  if (!fd) return fd.error();
  HttpRequest request;
  request.url = location.url;
  request.follow_redirects = true;
  request.download_fd = fd->get();
  request.options = transfer;
  for (const auto& [name, value] : location.headers) request.headers.push_back(name + ": " + value);
  const std::string where = redacted(location.url);

  std::function<Attempt<Ok>()> attempt = [&]() -> Attempt<Ok> {
    HttpOutcome outcome = perform(request);
    if (outcome.transport_failed()) {
      Error error = failed("GET " + where + ": " + outcome.error);
      return outcome.retryable() ? Attempt<Ok>::again(error) : Attempt<Ok>::done(error);
    }
    const long status = outcome.response.status;
    if (status >= 200 && status < 300) return Attempt<Ok>::done(Ok{});
    Error error = failed("GET " + where + ": HTTP " + std::to_string(status));
    if (status == 404 || status == 410) error.kind = ErrorKind::NotFound;
    return retryable_status(status) ? Attempt<Ok>::again(error) : Attempt<Ok>::done(error);
  };
  WWP_TRY(with_retries(retry, attempt));
  return fd->close();
}

}  // namespace wwp::artifacts
