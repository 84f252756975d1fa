#include "artifacts/s3_client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>

#include "artifacts/file_util.hpp"
#include "common/digest.hpp"
#include "net/url.hpp"

namespace wwp::artifacts {

namespace {

constexpr std::uint64_t kMiB = 1ULL << 20;
constexpr std::uint64_t kMinPartSize = 5 * kMiB;  // S3's floor for every part but the last
constexpr std::uint64_t kMaxParts = 10000;
// SHA-256 of the empty payload; S3 wants the payload hash on every SigV4 request and libcurl 7.88
// only computes it for in-memory POST bodies.
constexpr const char* kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// A ListObjectsV2 page (1000 keys of up to 1 KiB each, plus XML) fits with room to spare.
constexpr std::uint64_t kMaxListingPage = 8 * kMiB;

std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    auto semi = text.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back('&');
      continue;
    }
    std::string_view entity = text.substr(i + 1, semi - i - 1);
    if (entity == "amp")
      out.push_back('&');
    else if (entity == "lt")
      out.push_back('<');
    else if (entity == "gt")
      out.push_back('>');
    else if (entity == "quot")
      out.push_back('"');
    else if (entity == "apos")
      out.push_back('\'');
    else if (entity.starts_with("#")) {
      const bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
      std::string_view digits = entity.substr(hex ? 2 : 1);
      unsigned long code = 0;
      auto [end, error] =
          std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
      if (error != std::errc() || end != digits.data() + digits.size() || digits.empty() ||
          code > 0x10FFFF) {
        out.append(text.substr(i, semi - i + 1));  // not a character reference we understand
      } else if (code < 0x80) {
        out.push_back(static_cast<char>(code));
      } else if (code < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (code >> 6)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else if (code < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (code >> 12)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (code >> 18)));
        out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
      }
    } else {
      out.append(text.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

bool dns_compatible_bucket(const std::string& bucket, bool secure) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  // With TLS a dotted bucket breaks the wildcard certificate of the endpoint.
  return !(secure && bucket.find('.') != std::string::npos);
}

bool aws_host(const std::string& host) {
  std::string name = host.substr(0, host.find(':'));
  return name.ends_with(".amazonaws.com") || name.ends_with(".amazonaws.com.cn");
}

// "<Code>: <Message>" from an S3 error document, or the start of whatever came back.
std::string describe_error_body(const net::Response& response) {
  auto codes = xml_values(response.body, "Code");
  auto messages = xml_values(response.body, "Message");
  if (!codes.empty()) {
    return codes.front() +
           (messages.empty() || messages.front().empty() ? "" : ": " + messages.front());
  }
  std::string text = response.body.substr(0, 200);
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

std::string error_code(const net::Response& response) {
  auto codes = xml_values(response.body, "Code");
  return codes.empty() ? std::string() : codes.front();
}

bool retryable_s3_code(const std::string& code) {
  return code == "SlowDown" || code == "Throttling" || code == "ThrottlingException" ||
         code == "RequestLimitExceeded" || code == "RequestThrottled" ||
         code == "TooManyRequests" || code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable";
}

}  // namespace

std::vector<std::string> xml_values(std::string_view xml, std::string_view tag) {
  std::vector<std::string> values;
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    std::size_t start = pos + open.size();
    std::size_t end = xml.find(close, start);
    if (end == std::string_view::npos) break;
    values.push_back(decode_entities(xml.substr(start, end - start)));
    pos = end + close.size();
  }
  return values;
}

std::string s3_uri(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + "/" + key;
}

struct S3Client::Call {
  std::string method;
  std::string bucket;
  std::string key;
  std::string query;  // already canonical: sorted, AWS-encoded, every parameter with '='
  std::optional<std::string> xml;   // a small request document
  std::optional<net::Body> upload;  // a byte range of a file
  // Its SHA-256, signed with the request: the server stores nothing but exactly these bytes (a
  // body cut short by a crash or a proxy is refused, not kept as a torn object).
  std::optional<Digest> upload_sha256;
  int download_fd = -1;  // where a 2xx body goes; else it is kept in memory
  std::uint64_t max_body_bytes = 1 * kMiB;
  // S3 answers some failures with 200 and an <Error> document (CompleteMultipartUpload).
  bool error_in_ok_body = false;
  Deadline deadline = kNoDeadline;
  std::string what;  // "GET s3://bucket/key" for messages
};

namespace {

// One more read of what is about to be sent (from the page cache, as a rule).
Result<Digest> sha256_of_range(int fd, std::uint64_t offset, std::uint64_t length) {
  Sha256 hash;
  std::string buffer(1 * kMiB, '\0');
  while (length > 0) {
    const ssize_t n = ::pread(fd, buffer.data(), std::min<std::uint64_t>(buffer.size(), length),
                              static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed(std::string("cannot read the upload: ") + std::strerror(errno));
    if (n == 0)  // errno says nothing here: the file ended early
      return failed("cannot read the upload: the file shrank while it was being sent (" +
                    std::to_string(length) + " bytes missing)");
    hash.update(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    offset += static_cast<std::uint64_t>(n);
    length -= static_cast<std::uint64_t>(n);
  }
  return hash.finish();
}

}  // namespace

S3Client::S3Client(S3Endpoint endpoint, S3Credentials credentials, S3ClientOptions options)
    : endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      options_(std::move(options)) {
  std::string host = endpoint_.host;
  if (host.starts_with("https://")) {
    host = host.substr(8);
    endpoint_.secure = true;
  } else if (host.starts_with("http://")) {
    host = host.substr(7);
    endpoint_.secure = false;
  }
  while (!host.empty() && host.back() == '/') host.pop_back();
  host_ = host;
  scheme_ = endpoint_.secure ? "https" : "http";
  if (endpoint_.region.empty()) endpoint_.region = "us-east-1";
}

std::string S3Client::url(const std::string& bucket, const std::string& key,
                          const std::string& canonical_query) const {
  bool virtual_host = endpoint_.addressing == S3Addressing::VirtualHost ||
                      (endpoint_.addressing == S3Addressing::Auto && aws_host(host_) &&
                       dns_compatible_bucket(bucket, endpoint_.secure));
  std::string url = scheme_ + "://";
  if (virtual_host) {
    url += bucket + "." + host_ + "/" + net::percent_encode(key, true);
  } else {
    url += host_ + "/" + bucket;
    if (!key.empty()) url += "/" + net::percent_encode(key, true);
  }
  if (!canonical_query.empty()) url += "?" + canonical_query;
  return url;
}

Result<net::Response> S3Client::call(const Call& c) const {
  using Attempt = net::Attempt<net::Response>;
  net::Request request;
  request.method = c.method;
  request.url = url(c.bucket, c.key, c.query);
  request.transport = options_.transfer;
  request.deadline = c.deadline;
  request.max_body_bytes = c.max_body_bytes;
  if (c.upload) {
    request.body = c.upload;
    request.headers.push_back("x-amz-content-sha256: " +
                              (c.upload_sha256 ? c.upload_sha256->hex : "UNSIGNED-PAYLOAD"));
  } else if (c.xml) {
    request.body = net::Body::from_string(*c.xml);
    request.headers.push_back("x-amz-content-sha256: " + sha256_of(*c.xml).hex);
    request.headers.push_back("Content-Type: application/xml");
  } else {
    request.headers.push_back(std::string("x-amz-content-sha256: ") + kEmptyPayloadSha256);
  }
  if (!credentials_.anonymous()) {
    request.aws_sigv4 = "aws:amz:" + endpoint_.region + ":s3";
    request.userpwd = credentials_.access_key + ":" + credentials_.secret_key;
    if (!credentials_.session_token.empty()) {
      request.headers.push_back("x-amz-security-token: " + credentials_.session_token);
    }
  }

  return net::with_retries<net::Response>(options_.retry, c.deadline, [&]() -> Attempt {
    if (c.download_fd >= 0) {
      // A fresh sink per attempt: it truncates the file, so a retry starts clean.
      auto sink = net::file_sink(c.download_fd);
      if (!sink) return Attempt::done(sink.error().context("S3 " + c.what));
      request.sink = std::move(*sink);
    }
    net::Outcome outcome = net::default_client().perform(request);
    if (outcome.aborted) return Attempt::done(outcome.aborted->context("S3 " + c.what));
    if (!outcome.ok()) {
      Error error = failed("S3 " + c.what + ": cannot reach " + scheme_ + "://" + host_ + ": " +
                           outcome.message);
      return Attempt::fail(error, outcome.transient());
    }
    net::Response& response = outcome.response;
    const long status = response.status;
    const std::string code = error_code(response);
    bool ok = status >= 200 && status < 300;
    if (ok && c.error_in_ok_body && response.body.find("<Error>") != std::string::npos) ok = false;
    if (ok) return Attempt::done(std::move(response));

    std::string detail = describe_error_body(response);
    Error error = failed("S3 " + c.what + " at " + scheme_ + "://" + host_ + ": HTTP " +
                         std::to_string(status) + (detail.empty() ? "" : " " + detail));
    if (outcome.transient() || retryable_s3_code(code)) {
      return Attempt::again(error, response.retry_after());
    }
    if (status == 404 || code == "NoSuchKey" || code == "NoSuchBucket") {
      error.kind = ErrorKind::NotFound;
    }
    return Attempt::done(error);
  });
}

Result<Ok> S3Client::get_object(const std::string& bucket, const std::string& key,
                                const std::filesystem::path& destination, Deadline deadline) const {
  auto fd = open_file(destination, O_WRONLY | O_CREAT | O_TRUNC);
  if (!fd) return fd.error();
  Call c{.method = "GET", .bucket = bucket, .key = key, .download_fd = fd->get()};
  c.deadline = deadline;
  c.what = "GET " + s3_uri(bucket, key);
  auto response = call(c);
  if (!response) return response.error();
  return fd->close();
}

Result<Ok> S3Client::put_object(const std::string& bucket, const std::string& key,
                                const std::filesystem::path& source, Deadline deadline) const {
  auto fd = open_file(source, O_RDONLY);
  if (!fd) return fd.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0)
    return failed("cannot stat " + source.string() + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) return failed(source.string() + " is not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > std::max(options_.part_size, kMinPartSize))
    return put_multipart(bucket, key, fd->get(), size, deadline);
  return put_single(bucket, key, fd->get(), size, deadline);
}

Result<Ok> S3Client::put_single(const std::string& bucket, const std::string& key, int fd,
                                std::uint64_t size, Deadline deadline) const {
  Call c{.method = "PUT", .bucket = bucket, .key = key};
  c.upload = net::Body::from_file(fd, 0, size);
  WWP_TRY_ASSIGN(c.upload_sha256, sha256_of_range(fd, 0, size));
  c.deadline = deadline;
  c.what = "PUT " + s3_uri(bucket, key);
  auto response = call(c);
  if (!response) return response.error();
  // S3 answers a stored object with its ETag; a 200 without one came from something else (a
  // proxy, a captive portal) and nothing says the object is there.
  if (response->header("etag").value_or("").empty()) {
    return failed("S3 " + c.what + ": no ETag in the answer (is the endpoint an S3 server?)");
  }
  return Ok{};
}

Result<Ok> S3Client::put_multipart(const std::string& bucket, const std::string& key, int fd,
                                   std::uint64_t size, Deadline deadline) const {
  std::uint64_t part_size = std::max(options_.part_size, kMinPartSize);
  if ((size + part_size - 1) / part_size > kMaxParts) {
    part_size = ((size + kMaxParts - 1) / kMaxParts + kMiB - 1) / kMiB * kMiB;
  }
  const std::string where = s3_uri(bucket, key);

  Call create{.method = "POST", .bucket = bucket, .key = key, .query = "uploads="};
  create.what = "CreateMultipartUpload " + where;
  create.deadline = deadline;
  auto created = call(create);
  if (!created) return created.error();
  auto ids = xml_values(created->body, "UploadId");
  if (ids.empty() || ids.front().empty()) {
    return failed("S3 CreateMultipartUpload " + where + ": the answer has no UploadId");
  }
  const std::string upload_id = ids.front();
  const std::string encoded_id = net::percent_encode(upload_id, false);

  // Abandoned uploads keep their parts (and cost storage) until aborted.
  auto abort_upload = [&]() {
    Call abort{.method = "DELETE", .bucket = bucket, .key = key, .query = "uploadId=" + encoded_id};
    abort.what = "AbortMultipartUpload " + where;
    abort.deadline = deadline;
    (void)call(abort);
  };

  std::string complete_xml = "<CompleteMultipartUpload>";
  std::uint64_t part_number = 1;
  for (std::uint64_t offset = 0; offset < size; offset += part_size, ++part_number) {
    Call part{.method = "PUT", .bucket = bucket, .key = key};
    part.query = "partNumber=" + std::to_string(part_number) + "&uploadId=" + encoded_id;
    const std::uint64_t length = std::min(part_size, size - offset);
    part.upload = net::Body::from_file(fd, offset, length);
    auto part_sha256 = sha256_of_range(fd, offset, length);
    if (!part_sha256) {
      abort_upload();
      return part_sha256.error();
    }
    part.upload_sha256 = *part_sha256;
    part.deadline = deadline;
    part.what = "UploadPart " + std::to_string(part_number) + " " + where;
    auto uploaded = call(part);
    if (!uploaded) {
      abort_upload();
      return uploaded.error();
    }
    const std::string etag = uploaded->header("etag").value_or("");
    if (etag.empty()) {
      abort_upload();
      return failed("S3 UploadPart " + std::to_string(part_number) + " " + where +
                    ": no ETag in the answer");
    }
    complete_xml += "<Part><PartNumber>" + std::to_string(part_number) + "</PartNumber><ETag>" +
                    etag + "</ETag></Part>";
  }
  complete_xml += "</CompleteMultipartUpload>";

  Call complete{.method = "POST", .bucket = bucket, .key = key, .query = "uploadId=" + encoded_id};
  complete.xml = std::move(complete_xml);
  complete.deadline = deadline;
  complete.error_in_ok_body = true;
  complete.what = "CompleteMultipartUpload " + where;
  auto completed = call(complete);
  if (!completed) {
    abort_upload();
    return completed.error();
  }
  return Ok{};
}

Result<std::vector<S3ObjectInfo>> S3Client::list_objects(const std::string& bucket,
                                                         const std::string& prefix,
                                                         Deadline deadline) const {
  std::vector<S3ObjectInfo> objects;
  std::string token;
  for (;;) {
    Call list{.method = "GET", .bucket = bucket};
    if (!token.empty())
      list.query = "continuation-token=" + net::percent_encode(token, false) + "&";
    list.query += "list-type=2&prefix=" + net::percent_encode(prefix, false);
    list.what = "ListObjectsV2 " + s3_uri(bucket, prefix);
    list.max_body_bytes = kMaxListingPage;
    list.deadline = deadline;
    auto response = call(list);
    if (!response) return response.error();
    S3ListPage page = parse_list_page(response->body);
    for (auto& object : page.objects) objects.push_back(std::move(object));
    if (page.next_token.empty()) break;
    // A server that hands back the token it was given would keep us listing forever.
    if (page.next_token == token)
      return failed(list.what + ": the server repeated continuation token " + token);
    token = std::move(page.next_token);
  }
  return objects;
}

S3ListPage parse_list_page(std::string_view xml) {
  S3ListPage page;
  std::size_t pos = 0;
  while ((pos = xml.find("<Contents>", pos)) != std::string_view::npos) {
    std::size_t end = xml.find("</Contents>", pos);
    if (end == std::string_view::npos) break;
    std::string_view entry = xml.substr(pos, end - pos);
    auto keys = xml_values(entry, "Key");
    auto sizes = xml_values(entry, "Size");
    if (!keys.empty()) {
      S3ObjectInfo info{keys.front(), 0};
      if (!sizes.empty()) {
        const std::string& text = sizes.front();
        std::from_chars(text.data(), text.data() + text.size(), info.size);  // 0 if malformed
      }
      page.objects.push_back(std::move(info));
    }
    pos = end;
  }
  auto truncated = xml_values(xml, "IsTruncated");
  auto next = xml_values(xml, "NextContinuationToken");
  if (!truncated.empty() && truncated.front() == "true" && !next.empty())
    page.next_token = next.front();
  return page;
}

}  // namespace wwp::artifacts
