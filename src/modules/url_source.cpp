#include "modules/url_source.hpp"

#include <algorithm>

#include "common/units.hpp"
#include "net/url.hpp"

namespace wwp::modules {

namespace {

// How long to wait for another thread or process downloading the same digest.
constexpr auto kFetchLockWait = std::chrono::minutes(5);

}  // namespace

UrlSource::UrlSource(store::BlobStore& store, UrlSettings settings, net::Client& client)
    : store_(store), settings_(std::move(settings)), client_(client) {}

Result<FetchedModule> UrlSource::fetch(const model::ModuleRef& ref, Deadline deadline) {
  if (!ref.sha256) return invalid("module " + ref.location + ": url needs sha256");
  return fetch(ref.location, Digest{*ref.sha256}, deadline);
}

net::Attempt<Ok> UrlSource::download(const std::string& url, const Digest& expected,
                                     Deadline deadline) {
  using Attempt = net::Attempt<Ok>;
  auto writer = store_.writer();
  if (!writer) return Attempt::done(writer.error());
  net::Request request;
  request.url = url;
  request.max_redirects = settings_.max_redirects;
  request.deadline = std::min(deadline, deadline_in(settings_.timeout));
  request.transport = settings_.transport;
  const std::uint64_t limit = settings_.max_bytes;
  request.sink = [&](std::string_view chunk) -> Result<Ok> {
    if (writer->size() + chunk.size() > limit)
      return limit_exceeded("module is larger than the limit of " + format_quantity(limit));
    return writer->write(chunk);
  };
  const net::Outcome outcome = client_.perform(request);
  if (outcome.aborted) return Attempt::done(*outcome.aborted);
  if (!outcome.ok()) {
    Error error = failed("download failed: " + outcome.message);
    return Attempt::fail(error, outcome.transient());
  }
  const long status = outcome.response.status;
  if (status == 404 || status == 410)
    return Attempt::done(not_found("not found (HTTP " + std::to_string(status) + ")"));
  if (status < 200 || status >= 300) {
    Error error = failed("download failed: HTTP " + std::to_string(status));
    return Attempt::fail(error, outcome.transient(), outcome.response.retry_after());
  }
  auto committed = writer->commit(expected);
  if (!committed) return Attempt::done(committed.error());
  return Attempt::done(Ok{});
}

Result<FetchedModule> UrlSource::fetch(const std::string& url, const Digest& expected,
                                       Deadline deadline) {
  const std::string where = "module " + net::without_query(url);
  // Lease before looking: a blob present while leased stays present until the lease ends.
  auto lease = store_.lease(expected);
  if (!lease) return lease.error().context(where);
  FetchedModule fetched{expected, store_.path_of(expected), *lease, url};
  if (store_.contains(expected)) return fetched;

  auto fetch_lock = store_.lock_for_fetch(expected, kFetchLockWait);
  if (!fetch_lock) return fetch_lock.error().context(where);
  if (store_.contains(expected)) return fetched;  // downloaded by someone else meanwhile

  auto downloaded = net::with_retries<Ok>(settings_.retry, deadline,
                                          [&] { return download(url, expected, deadline); });
  if (!downloaded) return downloaded.error().context(where);
  return fetched;
}

}  // namespace wwp::modules
