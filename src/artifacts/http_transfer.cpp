#include "artifacts/http_transfer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace wwp::artifacts {

void ensure_curl_initialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

bool HttpOutcome::retryable() const {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

bool retryable_status(long status) {
  return (status >= 500 && status != 501) || status == 429 || status == 408;
}

namespace {

struct TransferState {
  CURL* handle = nullptr;
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  std::uint64_t upload_sent = 0;
  std::size_t body_sent = 0;
  int write_errno = 0;
};

bool status_is_success(CURL* handle) {
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  return status >= 200 && status < 300;
}

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  const std::size_t bytes = size * count;
  if (state->request->download_fd >= 0 && status_is_success(state->handle)) {
    std::size_t done = 0;
    while (done < bytes) {
      ssize_t n = ::pwrite(state->request->download_fd, data + done, bytes - done,
                           static_cast<off_t>(state->response->downloaded + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        state->write_errno = errno;
        return 0;  // makes curl stop with CURLE_WRITE_ERROR
      }
      done += static_cast<std::size_t>(n);
    }
    state->response->downloaded += bytes;
    return bytes;
  }
  std::string& body = state->response->body;
  const std::size_t room = state->request->memory_body_limit > body.size()
                               ? state->request->memory_body_limit - body.size()
                               : 0;
  if (bytes > room) state->response->body_truncated = true;
  body.append(data, std::min(bytes, room));
  return bytes;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  const std::size_t capacity = size * count;
  if (state->request->upload) {
    const auto& range = *state->request->upload;
    const std::uint64_t left = range.length - state->upload_sent;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, capacity));
    if (want == 0) return 0;
    for (;;) {
      ssize_t n =
          ::pread(range.fd, buffer, want, static_cast<off_t>(range.offset + state->upload_sent));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // A short file here means it changed under us; curl reports the size mismatch.
        state->write_errno = n < 0 ? errno : 0;
        return CURL_READFUNC_ABORT;
      }
      state->upload_sent += static_cast<std::uint64_t>(n);
      return static_cast<std::size_t>(n);
    }
  }
  const std::string& body = *state->request->body;
  const std::size_t n = std::min(capacity, body.size() - state->body_sent);
  std::memcpy(buffer, body.data() + state->body_sent, n);
  state->body_sent += n;
  return n;
}

// Lets curl rewind the request body when it has to resend it (redirects, auth retries).
int on_seek(void* user, curl_off_t offset, int origin) {
  auto* state = static_cast<TransferState*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  if (state->request->upload) {
    state->upload_sent = static_cast<std::uint64_t>(offset);
  } else {
    state->body_sent = static_cast<std::size_t>(offset);
  }
  return CURL_SEEKFUNC_OK;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* state = static_cast<TransferState*>(user);
  const std::size_t bytes = size * count;
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    // A new response (after 100 Continue or a redirect): forget the previous one's headers.
    state->response->headers.clear();
    return bytes;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  state->response->headers[name] = std::string(value);
  return bytes;
}

}  // namespace

HttpOutcome perform(const HttpRequest& request) {
  ensure_curl_initialized();
  HttpOutcome outcome;
  CurlEasy handle(curl_easy_init());
  if (!handle) {
    outcome.code = CURLE_FAILED_INIT;
    outcome.error = "could not create a curl handle";
    return outcome;
  }
  if (request.download_fd >= 0 && ::ftruncate(request.download_fd, 0) != 0) {
    outcome.code = CURLE_WRITE_ERROR;
    outcome.error = std::string("cannot truncate the download file: ") + std::strerror(errno);
    return outcome;
  }
  TransferState state{handle.get(), &request, &outcome.response};
  CURL* h = handle.get();
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // we run on server threads
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.options.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(request.options.stall_timeout.count()));
  if (request.options.deadline) {
    // Rounded up and one more: curl counts whole milliseconds and must not stop before it.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
                          *request.options.deadline - std::chrono::steady_clock::now()) +
                      std::chrono::milliseconds(1);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::max<std::int64_t>(1, left.count())));
  }
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, request.options.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, request.options.verify_tls ? 2L : 0L);
  if (request.options.ca_file)
    curl_easy_setopt(h, CURLOPT_CAINFO, request.options.ca_file->c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &state);
  if (request.aws_sigv4) curl_easy_setopt(h, CURLOPT_AWS_SIGV4, request.aws_sigv4->c_str());
  if (request.userpwd) curl_easy_setopt(h, CURLOPT_USERPWD, request.userpwd->c_str());

  const bool has_body = request.upload.has_value() || request.body.has_value();
  if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" || (request.method == "POST" && has_body)) {
    const std::uint64_t length =
        request.upload ? request.upload->length : static_cast<std::uint64_t>(request.body->size());
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &state);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &state);
    if (request.method == "PUT") {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(length));
    } else {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(length));
    }
  } else if (request.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
  } else if (request.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  CurlSlist headers;
  for (const auto& header : request.headers) {
    curl_slist* grown = curl_slist_append(headers.get(), header.c_str());
    if (grown == nullptr) {
      outcome.code = CURLE_OUT_OF_MEMORY;
      outcome.error = "out of memory building request headers";
      return outcome;
    }
    (void)headers.release();
    headers.reset(grown);
  }
  if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

  outcome.code = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &outcome.response.status);
  if (outcome.code != CURLE_OK) {
    if (state.write_errno != 0) {
      outcome.error = std::strerror(state.write_errno);
    } else {
      outcome.error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(outcome.code);
    }
  }
  return outcome;
}

}  // namespace wwp::artifacts
