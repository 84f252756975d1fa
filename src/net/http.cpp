#include "net/http.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/text.hpp"
#include "common/unique_handle.hpp"
#include "net/retry.hpp"
#include "net/url.hpp"

namespace wwp::net {

// curl_global_init must run once, before any other libcurl call, and not concurrently with one:
// call_once makes every other caller wait for it.
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

namespace {

using CurlEasy = UniqueHandle<CURL, curl_easy_cleanup>;
using CurlList = UniqueHandle<curl_slist, curl_slist_free_all>;

constexpr std::uint64_t kErrorBodyLimit = 64u << 10;
constexpr std::size_t kPooledHandles = 16;

struct Transfer {
  const Request* request = nullptr;
  const Body* body = nullptr;
  Response* response = nullptr;
  long status = 0;  // of the response whose headers are being read
  std::uint64_t body_sent = 0;
  std::optional<Error> aborted;
  std::string read_error;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  const std::string_view line = trim(std::string_view(data, bytes));
  if (line.starts_with("HTTP/")) {
    // A new response (100 Continue, a proxy's CONNECT): only the last one's headers count.
    transfer.response->headers.clear();
    const auto space = line.find(' ');
    transfer.status = space == std::string_view::npos
                          ? 0
                          : std::atol(std::string(line.substr(space + 1, 3)).c_str());
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    transfer.response->headers.emplace_back(to_lower(trim(line.substr(0, colon))),
                                            std::string(trim(line.substr(colon + 1))));
  }
  return bytes;
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  const std::string_view chunk(data, bytes);
  const bool success = transfer.status >= 200 && transfer.status < 300;
  if (success && transfer.request->sink) {
    auto accepted = transfer.request->sink(chunk);
    if (!accepted) {
      transfer.aborted = accepted.error();
      return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
    }
    return bytes;
  }
  std::string& body = transfer.response->body;
  const std::uint64_t limit = success ? transfer.request->max_body_bytes : kErrorBodyLimit;
  if (body.size() + bytes > limit) {
    if (!success) {
      body.append(chunk.substr(0, static_cast<std::size_t>(limit - body.size())));
      return bytes;  // the rest of an error body is not needed for its message
    }
    transfer.aborted = limit_exceeded("response body is larger than the limit of " +
                                      std::to_string(limit) + " bytes");
    return 0;
  }
  body.append(chunk);
  return bytes;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const Body& body = *transfer.body;
  const std::uint64_t left = body.size - transfer.body_sent;
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, size * count));
  if (want == 0) return 0;
  auto got = body.read(transfer.body_sent, buffer, want);
  if (!got || *got == 0) {
    // A short source means it changed under us; libcurl reports the size mismatch.
    transfer.read_error = got ? "the request body ended early" : got.error().message;
    return CURL_READFUNC_ABORT;
  }
  transfer.body_sent += *got;
  return *got;
}

// Vets the address libcurl connected to, before the request goes out on it.
int on_connected(void* user, char* primary_ip, char*, int, int) {
  auto& transfer = *static_cast<Transfer*>(user);
  auto allowed = transfer.request->check_address(primary_ip);
  if (allowed) return CURL_PREREQFUNC_OK;
  transfer.aborted = allowed.error();
  return CURL_PREREQFUNC_ABORT;
}

// Lets libcurl rewind the request body when it has to send it again.
int on_seek(void* user, curl_off_t offset, int origin) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  transfer.body_sent = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

Failure classify(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return Failure::None;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_WEIRD_SERVER_REPLY:
      return Failure::Unreachable;
    case CURLE_OPERATION_TIMEDOUT:
      return Failure::Timeout;
    case CURLE_PARTIAL_FILE:
      return Failure::Truncated;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return Failure::Tls;
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
      return Failure::Aborted;
    default:
      return Failure::Other;
  }
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool is_credential_header(std::string_view header) {
  const std::string name = to_lower(trim(header.substr(0, header.find(':'))));
  return name == "authorization" || name == "cookie" || name == "proxy-authorization";
}

void apply_transport(CURL* curl, const TransportOptions& options, Deadline deadline) {
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::max<std::int64_t>(1, options.connect_timeout.count())));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options.stall_bytes_per_second);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.stall_timeout.count()));
  if (deadline != kNoDeadline) {
    const auto left = std::max<std::int64_t>(1, remaining(deadline).count());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(left));
  }
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  if (options.ca_file) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file->c_str());
  if (options.proxy) {
    curl_easy_setopt(curl, CURLOPT_PROXY, options.proxy->c_str());
  } else if (!options.proxy_from_environment) {
    curl_easy_setopt(curl, CURLOPT_PROXY, "");  // "" disables the environment variables
  }
}

void apply_method(CURL* curl, const std::string& method, const Body* body, Transfer& transfer) {
  if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
    if (method == "POST") {
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size));
    } else {
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body->size));
      if (method != "PUT") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
  } else if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
  } else if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
}

}  // namespace

Body Body::from_string(std::string bytes) {
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  Body body;
  body.size = shared->size();
  body.read = [shared](std::uint64_t offset, char* buffer,
                       std::size_t capacity) -> Result<std::size_t> {
    if (offset >= shared->size()) return std::size_t{0};
    const std::size_t n =
        std::min<std::size_t>(capacity, shared->size() - static_cast<std::size_t>(offset));
    std::memcpy(buffer, shared->data() + offset, n);
    return n;
  };
  return body;
}

Body Body::from_file(int fd, std::uint64_t offset, std::uint64_t length) {
  Body body;
  body.size = length;
  body.read = [fd, offset, length](std::uint64_t at, char* buffer,
                                   std::size_t capacity) -> Result<std::size_t> {
    if (at >= length) return std::size_t{0};
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(capacity, length - at));
    for (;;) {
      const ssize_t n = ::pread(fd, buffer, want, static_cast<off_t>(offset + at));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0)
        return failed(std::string("cannot read the request body: ") + std::strerror(errno));
      return static_cast<std::size_t>(n);
    }
  };
  return body;
}

Result<Sink> file_sink(int fd) {
  if (::ftruncate(fd, 0) != 0)
    return failed(std::string("cannot truncate the download file: ") + std::strerror(errno));
  auto written = std::make_shared<std::uint64_t>(0);
  return Sink([fd, written](std::string_view chunk) -> Result<Ok> {
    while (!chunk.empty()) {
      const ssize_t n = ::pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(*written));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return failed(std::string("cannot write the download: ") + std::strerror(errno));
      *written += static_cast<std::uint64_t>(n);
      chunk.remove_prefix(static_cast<std::size_t>(n));
    }
    return Ok{};
  });
}

std::optional<std::string> Response::header(std::string_view name) const {
  const std::string wanted = to_lower(name);
  for (const auto& [key, value] : headers) {
    if (key == wanted) return value;
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> Response::retry_after() const {
  const auto value = header("retry-after");
  return value ? parse_retry_after(*value) : std::nullopt;
}

bool Outcome::transient() const {
  switch (failure) {
    case Failure::None:
      return transient_status(response.status);
    case Failure::Unreachable:
    case Failure::Timeout:
    case Failure::Truncated:
      return true;
    default:
      return false;
  }
}

struct Client::Handle {
  CurlEasy curl;
};

Client::Client() = default;
Client::~Client() = default;

Client& default_client() {
  static Client client;
  return client;
}

std::unique_ptr<Client::Handle> Client::take_handle() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      // Resets options but keeps the handle's connection, DNS and TLS session caches.
      curl_easy_reset(handle->curl.get());
      return handle;
    }
  }
  global_init();
  auto handle = std::make_unique<Handle>();
  handle->curl.reset(curl_easy_init());
  return handle;
}

void Client::give_back(std::unique_ptr<Handle> handle) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < kPooledHandles) idle_.push_back(std::move(handle));
}

Outcome Client::perform(const Request& request) {
  auto handle = take_handle();
  if (!handle->curl) {
    Outcome outcome;
    outcome.failure = Failure::Other;
    outcome.message = "cannot initialise libcurl";
    return outcome;
  }
  const std::string original_host = url_host(request.url);
  std::string url = request.url;
  std::string method = request.method;
  const Body* body = request.body ? &*request.body : nullptr;
  bool send_credentials = true;
  Outcome outcome;
  for (int hop = 0;; ++hop) {
    outcome = perform_once(*handle, request, url, method, body, send_credentials);
    if (!outcome.ok() || !is_redirect(outcome.response.status) || hop >= request.max_redirects)
      break;

    char* target = nullptr;
    curl_easy_getinfo(handle->curl.get(), CURLINFO_REDIRECT_URL, &target);
    const std::string next = target ? std::string(target) : std::string();
    const std::string scheme = url_scheme(next);
    if (next.empty() || (scheme != "https" && (scheme != "http" || request.https_only))) {
      outcome.failure = Failure::Redirect;
      outcome.message =
          "redirected to " +
          (scheme.empty() ? std::string("an unusable location") : "a " + scheme + ": URL") +
          ", which is not followed";
      break;
    }
    if (request.check_redirect) {
      if (auto allowed = request.check_redirect(next); !allowed) {
        outcome.failure = Failure::Redirect;
        outcome.message = allowed.error().message;
        outcome.aborted = allowed.error();
        break;
      }
    }
    // 303, and 301/302 after a POST, continue as a GET without the body (what browsers do).
    const long status = outcome.response.status;
    if ((status == 303 && method != "HEAD") ||
        ((status == 301 || status == 302) && method == "POST")) {
      method = "GET";
      body = nullptr;
    }
    // Credentials are for the host they were configured for, never for where it redirects.
    if (url_host(next) != original_host) send_credentials = false;
    url = next;
  }
  give_back(std::move(handle));
  return outcome;
}

Outcome Client::perform_once(Handle& handle, const Request& request, const std::string& url,
                             const std::string& method, const Body* body, bool send_credentials) {
  Outcome outcome;
  CURL* curl = handle.curl.get();
  Transfer transfer;
  transfer.request = &request;
  transfer.body = body;
  transfer.response = &outcome.response;
  if (remaining(request.deadline).count() <= 0) {
    outcome.failure = Failure::Timeout;
    outcome.message = "the deadline passed before the request was sent";
    return outcome;
  }

  char error[CURL_ERROR_SIZE] = {};
  CurlList headers;
  auto add_header = [&](const std::string& header) {
    if (curl_slist* grown = curl_slist_append(headers.get(), header.c_str())) {
      (void)headers.release();
      headers.reset(grown);
    }
  };
  for (const std::string& header : request.headers) {
    if (send_credentials || !is_credential_header(header)) add_header(header);
  }
  // Waiting for 100-continue only adds a round trip; every server we talk to answers directly.
  add_header("Expect:");

  const char* protocols = request.https_only ? "https" : "http,https";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // followed by perform(), vetted there
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);        // we run on server threads
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(
      curl, CURLOPT_PREREQFUNCTION,
      request.check_address ? on_connected : static_cast<curl_prereq_callback>(nullptr));
  curl_easy_setopt(curl, CURLOPT_PREREQDATA, &transfer);
  // No transfer encodings: digests are over the bytes as served, so nothing may be decoded.
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, nullptr);
  apply_transport(curl, request.transport, request.deadline);
  if (send_credentials && request.aws_sigv4)
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, request.aws_sigv4->c_str());
  if (send_credentials && request.userpwd)
    curl_easy_setopt(curl, CURLOPT_USERPWD, request.userpwd->c_str());
  apply_method(curl, method, body, transfer);

  const CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &outcome.response.status);
  outcome.response.url = url;
  outcome.failure = classify(code);
  if (transfer.aborted) {
    outcome.failure = Failure::Aborted;
    outcome.aborted = transfer.aborted;
  } else if (outcome.failure == Failure::Aborted) {
    outcome.failure = Failure::Other;  // a read callback or libcurl itself gave up
  }
  if (outcome.failure != Failure::None) {
    if (transfer.aborted) {
      outcome.message = transfer.aborted->message;
    } else if (!transfer.read_error.empty()) {
      outcome.message = transfer.read_error;
    } else {
      outcome.message = error[0] ? std::string(error) : std::string(curl_easy_strerror(code));
    }
  }
  // Unhook pointers into this stack frame before the handle goes back to the pool.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_PREREQDATA, nullptr);
  return outcome;
}

}  // namespace wwp::net
