// Input artifacts with an `http` location: a GET (redirects to http(s) followed, the artifact's
// headers sent to the original host only) streamed into a file.
#pragma once

#include <filesystem>

#include "common/deadline.hpp"
#include "common/result.hpp"
#include "model/artifact.hpp"
#include "net/http.hpp"
#include "net/retry.hpp"

namespace wwp::artifacts {

// 404/410 are NotFound; other 4xx fail; transient failures (net/retry.hpp) are retried and end
// as Transient; a redirect to another scheme (file://, ...) fails.
Result<Ok> http_download(const model::HttpLocation& location,
                         const std::filesystem::path& destination, const net::RetryPolicy& retry,
                         const net::TransportOptions& transfer, Deadline deadline = kNoDeadline);

}  // namespace wwp::artifacts
