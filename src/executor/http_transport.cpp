#include "executor/http_transport.hpp"

#include "common/units.hpp"

namespace wwp::executor {

namespace {

constexpr int kMaxRedirects = 5;

}  // namespace

sandbox::HttpTransport make_http_transport(net::Client& client, net::TransportOptions options) {
  // A module's request goes where its allow-list says and nowhere a proxy variable would send it.
  options.proxy_from_environment = false;
  return [&client, options](
             const sandbox::HttpRequest& request,
             const sandbox::HttpRequestBounds& bounds) -> Result<sandbox::HttpResponse> {
    net::Request call;
    call.method = request.method;
    call.url = request.url;
    for (const auto& [name, value] : request.headers) call.headers.push_back(name + ": " + value);
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
        request.method == "PATCH")
      call.body = net::Body::from_string(request.body);
    call.max_body_bytes = bounds.max_response_bytes;
    call.deadline = bounds.deadline;
    call.max_redirects = kMaxRedirects;
    call.check_redirect = [&bounds](std::string_view url) -> Result<Ok> {
      if (auto refused = bounds.refusal(std::string(url)))
        return invalid("redirect to " + std::string(url) + ": " + refused->reason);
      return Ok{};
    };
    call.check_address = [&bounds](std::string_view address) -> Result<Ok> {
      if (bounds.address_refusal) {
        if (auto refused = bounds.address_refusal(std::string(address))) return invalid(*refused);
      }
      return Ok{};
    };
    call.transport = options;
    net::Outcome outcome = client.perform(call);
    if (!outcome.ok()) {
      if (outcome.aborted) {
        if (outcome.aborted->kind == ErrorKind::LimitExceeded)
          return limit_exceeded("response body larger than " +
                                format_quantity(bounds.max_response_bytes));
        return *outcome.aborted;  // a refused redirect or address: InvalidRequest -> error 7
      }
      if (outcome.failure == net::Failure::Timeout) return failed("no answer before the deadline");
      return failed(outcome.message);
    }
    sandbox::HttpResponse response;
    response.status = static_cast<int>(outcome.response.status);
    response.headers = std::move(outcome.response.headers);
    response.body = std::move(outcome.response.body);
    return response;
  };
}

}  // namespace wwp::executor
