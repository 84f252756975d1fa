// One HTTP exchange through libcurl, streaming bodies to and from files so memory does not grow
// with the size of an artifact. Used by the S3 client, the http input driver and the Kubernetes
// API client. Retrying is the caller's business; this layer only says whether a failure is the
// kind a retry can cure.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wwp::artifacts {

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// curl_global_init is not safe to race with other curl calls; every entry point goes through here.
void ensure_curl_initialized();

struct TransferOptions {
  std::chrono::milliseconds connect_timeout{10000};
  // A transfer that moves less than one byte per second for this long is abandoned (retryable):
  // a total timeout would cap artifact size, a stall timeout does not.
  std::chrono::seconds stall_timeout{60};
  bool verify_tls = true;
  std::optional<std::string> ca_file;
  // The step's deadline: a transfer still running then is cut (CURLOPT_TIMEOUT_MS).
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // Request body: a string held in memory (small XML documents) or a byte range of an open file.
  std::optional<std::string> body;
  struct FileRange {
    int fd = -1;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };
  std::optional<FileRange> upload;
  // A 2xx response body is written here from offset 0 (the file is truncated first, so a retry
  // starts clean). Other responses, and all responses when no fd is given, are kept in memory up
  // to `memory_body_limit` bytes, enough for an error document.
  int download_fd = -1;
  std::size_t memory_body_limit = 1 << 20;
  std::optional<std::string> aws_sigv4;  // CURLOPT_AWS_SIGV4, e.g. "aws:amz:us-east-1:s3"
  std::optional<std::string> userpwd;    // "ACCESS:SECRET" for SigV4
  bool follow_redirects = false;
  TransferOptions options;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // see HttpRequest::download_fd
  std::uint64_t downloaded = 0;                // bytes written to download_fd
  bool body_truncated = false;

  std::string header(const std::string& lower_name) const;
};

struct HttpOutcome {
  CURLcode code = CURLE_OK;
  std::string error;  // curl's description when code != CURLE_OK
  HttpResponse response;

  bool transport_failed() const { return code != CURLE_OK; }
  // Connection refused/reset, timeouts, DNS hiccups, truncated transfers: a retry may succeed.
  // Local problems (a write to disk failed, a bad URL) are not retried.
  bool retryable() const;
};

HttpOutcome perform(const HttpRequest& request);

// HTTP statuses worth retrying: 5xx (except 501 Not Implemented), 429 and 408.
bool retryable_status(long status);

}  // namespace wwp::artifacts
