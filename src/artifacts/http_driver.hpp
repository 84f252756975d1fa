// Input artifacts with an `http` location: a GET (redirects followed, the artifact's headers sent)
// streamed into a file.
#pragma once

#include <filesystem>

#include "artifacts/http_transfer.hpp"
#include "artifacts/retry.hpp"
#include "common/result.hpp"
#include "model/artifact.hpp"

namespace wwp::artifacts {

// 404/410 are NotFound; other 4xx fail; 5xx, 429 and connection failures are retried and end
// as Transient.
Result<Ok> http_download(const model::HttpLocation& location,
                         const std::filesystem::path& destination, const RetryPolicy& retry,
                         const TransferOptions& transfer);

}  // namespace wwp::artifacts
