// The transport behind modules' outbound HTTP (sandbox/http_capability.hpp), on the plugin's one
// HTTP client: redirects followed by net (each target checked against the step's allow-list),
// every connected address checked against the operator's deny ranges, no proxy from the
// environment, the step's deadline and the response cap.
#pragma once

#include "net/http.hpp"
#include "sandbox/http_capability.hpp"

namespace wwp::executor {

sandbox::HttpTransport make_http_transport(net::Client& client, net::TransportOptions options = {});

}  // namespace wwp::executor
