// The HTTP layer against a real server on loopback (cpp-httplib, in process): the retry rule,
// Retry-After, deadlines, redirects and body limits.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "net/http.hpp"
#include "net/retry.hpp"

namespace wwp::net {
namespace {

using std::chrono::milliseconds;

class Server {
 public:
  Server() {
    server_.set_keep_alive_max_count(1);  // stop() then need not wait for idle connections
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Server() {
    server_.stop();
    thread_.join();
  }
  httplib::Server& routes() { return server_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

const RetryPolicy kQuick{.max_attempts = 4, .initial_backoff = milliseconds(10)};

// One GET through the retry loop, the way every user of the layer does it.
Result<Response> get_with_retries(const Request& request, const RetryPolicy& policy,
                                  Deadline deadline = kNoDeadline) {
  return with_retries<Response>(policy, deadline, [&]() -> Attempt<Response> {
    Outcome outcome = default_client().perform(request);
    if (outcome.aborted) return Attempt<Response>::done(*outcome.aborted);
    const bool ok = outcome.ok() && outcome.response.status / 100 == 2;
    if (ok) return Attempt<Response>::done(std::move(outcome.response));
    Error error =
        failed(outcome.ok() ? "HTTP " + std::to_string(outcome.response.status) : outcome.message);
    return Attempt<Response>::fail(error, outcome.transient(), outcome.response.retry_after());
  });
}

TEST(TransientRule, Statuses) {
  for (long status : {408L, 429L, 500L, 502L, 503L, 504L, 599L})
    EXPECT_TRUE(transient_status(status)) << status;
  for (long status : {200L, 301L, 400L, 401L, 403L, 404L, 410L, 501L, 505L, 511L})
    EXPECT_FALSE(transient_status(status)) << status;
}

TEST(HttpClient, RetriesA503ThenSucceeds) {
  Server server;
  std::atomic<int> calls{0};
  server.routes().Get("/flaky", [&](const httplib::Request&, httplib::Response& response) {
    if (++calls <= 2) {
      response.status = 503;
      return;
    }
    response.set_content("fine", "text/plain");
  });
  Request request;
  request.url = server.url("/flaky");
  auto got = get_with_retries(request, kQuick);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->body, "fine");
  EXPECT_EQ(calls.load(), 3);
}

TEST(HttpClient, PersistentFailureEndsTransientWithTheAttemptCount) {
  Server server;
  std::atomic<int> calls{0};
  server.routes().Get("/down", [&](const httplib::Request&, httplib::Response& response) {
    ++calls;
    response.status = 502;
  });
  Request request;
  request.url = server.url("/down");
  auto got = get_with_retries(request, kQuick);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::Transient);
  EXPECT_NE(got.error().message.find("gave up after 4 attempts"), std::string::npos)
      << got.error().message;
  EXPECT_EQ(calls.load(), 4);
}

TEST(HttpClient, PermanentNotFoundIsNotRetried) {
  Server server;
  std::atomic<int> calls{0};
  server.routes().Get("/gone", [&](const httplib::Request&, httplib::Response& response) {
    ++calls;
    response.status = 404;
  });
  Request request;
  request.url = server.url("/gone");
  auto got = get_with_retries(request, kQuick);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::Failed);
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpClient, RetryAfterIsHonouredAndBoundedByTheDeadline) {
  EXPECT_EQ(parse_retry_after(" 3 "), milliseconds(3000));
  EXPECT_EQ(parse_retry_after("0"), milliseconds(0));
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(parse_retry_after("-1"));
  // The server's wait replaces the backoff...
  EXPECT_EQ(next_delay(kQuick, kNoDeadline, 1, milliseconds(3000)), milliseconds(3000));
  // ...unless it would end after the deadline: then there is no next attempt.
  EXPECT_FALSE(next_delay(kQuick, deadline_in(milliseconds(1000)), 1, milliseconds(3000)));
  EXPECT_FALSE(next_delay(kQuick, kNoDeadline, kQuick.max_attempts, std::nullopt));

  // A 429 with Retry-After longer than the time left gives up at once, as Transient.
  Server server;
  std::atomic<int> calls{0};
  server.routes().Get("/busy", [&](const httplib::Request&, httplib::Response& response) {
    ++calls;
    response.status = 429;
    response.set_header("Retry-After", "120");
  });
  Request request;
  request.url = server.url("/busy");
  auto got = get_with_retries(request, kQuick, deadline_in(milliseconds(5000)));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().kind, ErrorKind::Transient);
  EXPECT_EQ(calls.load(), 1);
}

TEST(HttpClient, BackoffGrowsWithJitterUpToTheCap) {
  const RetryPolicy policy{.initial_backoff = milliseconds(100), .max_backoff = milliseconds(2000)};
  EXPECT_GE(backoff_delay(policy, 1).count(), 80);
  EXPECT_LE(backoff_delay(policy, 1).count(), 120);
  EXPECT_GE(backoff_delay(policy, 3).count(), 320);
  EXPECT_LE(backoff_delay(policy, 30).count(), 2400);
}

TEST(HttpClient, DeadlineStopsASlowServer) {
  Server server;
  server.routes().Get("/slow", [&](const httplib::Request&, httplib::Response& response) {
    std::this_thread::sleep_for(milliseconds(1500));
    response.set_content("late", "text/plain");
  });
  Request request;
  request.url = server.url("/slow");
  request.deadline = deadline_in(milliseconds(200));
  const Outcome outcome = default_client().perform(request);
  EXPECT_EQ(outcome.failure, Failure::Timeout) << outcome.message;
  EXPECT_TRUE(outcome.transient());

  // A deadline that has passed sends nothing.
  request.deadline = deadline_in(milliseconds(-1));
  EXPECT_EQ(default_client().perform(request).failure, Failure::Timeout);
}

TEST(HttpClient, RedirectToFileIsAPermanentFailure) {
  Server server;
  server.routes().Get("/to-file", [&](const httplib::Request&, httplib::Response& response) {
    response.status = 302;
    response.set_header("Location", "file:///etc/passwd");
  });
  Request request;
  request.url = server.url("/to-file");
  request.max_redirects = 5;
  const Outcome outcome = default_client().perform(request);
  EXPECT_EQ(outcome.failure, Failure::Redirect) << outcome.message;
  EXPECT_FALSE(outcome.transient());
  EXPECT_NE(outcome.message.find("file"), std::string::npos) << outcome.message;
  EXPECT_TRUE(outcome.response.body.find("root:") == std::string::npos);
}

TEST(HttpClient, RedirectsAreCheckedAndCredentialsStayWithTheirHost) {
  Server server;
  server.routes().Get("/start", [&](const httplib::Request&, httplib::Response& response) {
    response.status = 307;
    response.set_header("Location", "http://localhost:" + std::to_string(server.port()) + "/end");
  });
  server.routes().Get("/same", [&](const httplib::Request&, httplib::Response& response) {
    response.status = 302;
    response.set_header("Location", "/end");
  });
  server.routes().Get("/end", [&](const httplib::Request& request, httplib::Response& response) {
    response.set_content(request.has_header("Authorization") ? "with credentials" : "without",
                         "text/plain");
  });
  Request request;
  request.url = server.url("/start");
  request.headers.push_back("Authorization: Bearer secret");
  request.max_redirects = 5;
  std::vector<std::string> checked;
  request.check_redirect = [&](std::string_view url) -> Result<Ok> {
    checked.emplace_back(url);
    return Ok{};
  };
  Outcome outcome = default_client().perform(request);
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(outcome.response.status, 200);
  EXPECT_EQ(outcome.response.body, "without");  // another host: no credentials
  ASSERT_EQ(checked.size(), 1u);
  EXPECT_EQ(checked[0], "http://localhost:" + std::to_string(server.port()) + "/end");

  request.url = server.url("/same");
  outcome = default_client().perform(request);
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(outcome.response.body, "with credentials");  // same host keeps them

  request.check_redirect = [](std::string_view) -> Result<Ok> {
    return failed("redirect target not allowed");
  };
  outcome = default_client().perform(request);
  EXPECT_EQ(outcome.failure, Failure::Redirect);
  EXPECT_FALSE(outcome.transient());
  ASSERT_TRUE(outcome.aborted);
  EXPECT_EQ(outcome.aborted->message, "redirect target not allowed");

  // Without max_redirects a 3xx is simply the answer.
  request.max_redirects = 0;
  outcome = default_client().perform(request);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome.response.status, 302);
}

TEST(HttpClient, BodyLimitAndSinks) {
  Server server;
  server.routes().Get("/big", [&](const httplib::Request&, httplib::Response& response) {
    response.set_content(std::string(100000, 'x'), "application/octet-stream");
  });
  Request request;
  request.url = server.url("/big");
  request.max_body_bytes = 1000;
  Outcome outcome = default_client().perform(request);
  EXPECT_EQ(outcome.failure, Failure::Aborted);
  ASSERT_TRUE(outcome.aborted);
  EXPECT_EQ(outcome.aborted->kind, ErrorKind::LimitExceeded);
  EXPECT_FALSE(outcome.transient());

  // A sink sees every byte; its error stops the transfer and is reported as it is.
  std::size_t seen = 0;
  request.sink = [&](std::string_view chunk) -> Result<Ok> {
    seen += chunk.size();
    return Ok{};
  };
  outcome = default_client().perform(request);
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(seen, 100000u);
  EXPECT_TRUE(outcome.response.body.empty());
  request.sink = [](std::string_view) -> Result<Ok> { return limit_exceeded("too big for me"); };
  outcome = default_client().perform(request);
  ASSERT_TRUE(outcome.aborted);
  EXPECT_EQ(outcome.aborted->message, "too big for me");
}

TEST(HttpClient, UploadBodyIsResentAfterA307) {
  Server server;
  server.routes().Put("/upload", [&](const httplib::Request&, httplib::Response& response) {
    response.status = 307;
    response.set_header("Location", "/stored");
  });
  std::string stored;
  server.routes().Put("/stored", [&](const httplib::Request& request, httplib::Response& response) {
    stored = request.body;
    response.status = 201;
  });
  Request request;
  request.method = "PUT";
  request.url = server.url("/upload");
  request.body = Body::from_string("payload bytes");
  request.max_redirects = 2;
  const Outcome outcome = default_client().perform(request);
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ(outcome.response.status, 201);
  EXPECT_EQ(stored, "payload bytes");
}

TEST(HttpClient, UnreachableIsTransient) {
  Request request;
  request.url = "http://127.0.0.1:1/";  // nothing listens on port 1
  const Outcome outcome = default_client().perform(request);
  EXPECT_EQ(outcome.failure, Failure::Unreachable) << outcome.message;
  EXPECT_TRUE(outcome.transient());
}

}  // namespace
}  // namespace wwp::net
