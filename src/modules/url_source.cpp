#include "modules/url_source.hpp"

#include <curl/curl.h>

#include <cstdio>
#include <memory>
#include <thread>

#include "common/units.hpp"

namespace wwp::modules {

namespace fs = std::filesystem;

namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

struct DownloadState {
  std::FILE* out = nullptr;
  std::uint64_t written = 0;
  std::uint64_t limit = 0;
  bool too_large = false;
};

std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& state = *static_cast<DownloadState*>(user);
  const std::size_t bytes = size * count;
  if (state.written + bytes > state.limit) {
    state.too_large = true;
    return 0;  // aborts the transfer
  }
  state.written += bytes;
  return std::fwrite(data, 1, bytes, state.out);
}

}  // namespace

UrlSource::UrlSource(BlobStore& store, UrlSettings settings) : store_(store), settings_(settings) {}

Result<Ok> UrlSource::download(const std::string& url, const fs::path& into) {
  std::unique_ptr<std::FILE, FileCloser> out(std::fopen(into.c_str(), "wb"));
  if (!out) return failed("cannot create " + into.string());
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return transient("cannot initialise libcurl");
  DownloadState state{out.get(), 0, settings_.max_bytes};
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  const CURLcode code = curl_easy_perform(curl.get());
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (state.too_large) {
    return limit_exceeded("module is larger than the limit of " +
                          format_quantity(settings_.max_bytes));
  }
  if (code != CURLE_OK) {
    return transient(std::string("download failed: ") +
                     (error[0] ? error : curl_easy_strerror(code)));
  }
  if (status == 404 || status == 410)
    return not_found("module " + url + " not found (HTTP " + std::to_string(status) + ")");
  if (status == 429 || status >= 500)
    return transient("download failed: HTTP " + std::to_string(status));
  if (status >= 400) return failed("download failed: HTTP " + std::to_string(status));
  if (std::fflush(out.get()) != 0) return failed("cannot write " + into.string());
  return Ok{};
}

Result<FetchedFile> UrlSource::fetch(const std::string& url, const Digest& expected) {
  if (store_.contains(expected)) return FetchedFile{expected, store_.path_of(expected)};
  std::error_code ec;
  fs::create_directories(store_.root() / "sha256", ec);
  const fs::path temp = store_.temp_path();
  Result<Ok> downloaded = Ok{};
  for (int attempt = 0; attempt < settings_.attempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
    downloaded = download(url, temp);
    if (downloaded || !downloaded.error().transient()) break;
  }
  if (!downloaded) {
    fs::remove(temp, ec);
    return downloaded.error().context("module " + url);
  }
  auto bytes_digest = [&]() -> Result<Digest> {
    std::FILE* in = std::fopen(temp.c_str(), "rb");
    if (!in) return failed("cannot reopen the download");
    std::string bytes;
    char buffer[1 << 16];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, in)) > 0) bytes.append(buffer, n);
    std::fclose(in);
    return sha256_of(bytes);
  }();
  if (!bytes_digest) {
    fs::remove(temp, ec);
    return bytes_digest.error();
  }
  if (*bytes_digest != expected) {
    fs::remove(temp, ec);
    return failed("module " + url + ": digest mismatch: expected " + expected.str() + ", got " +
                  bytes_digest->str());
  }
  auto committed = store_.commit(temp, expected);
  if (!committed) return committed.error();
  return FetchedFile{expected, store_.path_of(expected)};
}

}  // namespace wwp::modules
