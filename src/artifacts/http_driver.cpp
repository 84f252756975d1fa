#include "artifacts/http_driver.hpp"

#include <fcntl.h>

#include "artifacts/file_util.hpp"
#include "net/url.hpp"

namespace wwp::artifacts {

namespace {

constexpr int kMaxRedirects = 10;

}  // namespace

Result<Ok> http_download(const model::HttpLocation& location,
                         const std::filesystem::path& destination, const net::RetryPolicy& retry,
                         const net::TransportOptions& transfer, Deadline deadline) {
  using Attempt = net::Attempt<Ok>;
  if (!location.url.starts_with("http://") && !location.url.starts_with("https://")) {
    return invalid("http artifact url must start with http:// or https://");
  }
  WWP_TRY_ASSIGN(UniqueFd fd, open_file(destination, O_WRONLY | O_CREAT | O_TRUNC));
  net::Request request;
  request.url = location.url;
  request.max_redirects = kMaxRedirects;
  request.deadline = deadline;
  request.transport = transfer;
  for (const auto& [name, value] : location.headers) request.headers.push_back(name + ": " + value);
  const std::string where = net::without_query(location.url);

  WWP_TRY(net::with_retries<Ok>(retry, deadline, [&]() -> Attempt {
    auto sink = net::file_sink(fd.get());  // truncates: every attempt starts clean
    if (!sink) return Attempt::done(sink.error());
    request.sink = std::move(*sink);
    const net::Outcome outcome = net::default_client().perform(request);
    if (outcome.aborted) return Attempt::done(outcome.aborted->context("GET " + where));
    if (!outcome.ok()) {
      Error error = failed("GET " + where + ": " + outcome.message);
      return Attempt::fail(error, outcome.transient());
    }
    const long status = outcome.response.status;
    if (status >= 200 && status < 300) return Attempt::done(Ok{});
    Error error = failed("GET " + where + ": HTTP " + std::to_string(status));
    if (status == 404 || status == 410) error.kind = ErrorKind::NotFound;
    return Attempt::fail(error, outcome.transient(), outcome.response.retry_after());
  }));
  return fd.close();
}

}  // namespace wwp::artifacts
