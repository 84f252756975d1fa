#include "sandbox/http_host_module.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

#include "sandbox/guest_memory.hpp"
#include "sandbox/step_state.hpp"

namespace wwp::sandbox {

namespace {

constexpr std::string_view kModule = "wasi_experimental_http";
using HostResult = wasmtime::Result<std::int32_t, wasmtime::Trap>;

std::optional<std::string> guest_string(const GuestMemory& memory, std::int32_t ptr,
                                        std::int32_t len) {
  const auto at = static_cast<std::uint32_t>(ptr);
  const auto size = static_cast<std::uint32_t>(len);
  if (!memory.contains(at, size)) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(memory.data() + at), size);
}

// Well-formed lead and continuation bytes (the crate rejects what Rust's str would reject).
bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t extra = lead < 0x80             ? 0
                              : (lead & 0xE0) == 0xC0 ? 1
                              : (lead & 0xF0) == 0xE0 ? 2
                              : (lead & 0xF8) == 0xF0 ? 3
                                                      : 4;
    if (extra == 4 || text.size() - i <= extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

bool known_method(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kMethods = {"GET",   "POST", "PUT",    "DELETE",
                                                               "PATCH", "HEAD", "OPTIONS"};
  return std::find(kMethods.begin(), kMethods.end(), method) != kMethods.end();
}

// "name:value\n" lines, the crate's header encoding.
std::optional<HttpHeaders> parse_headers(std::string_view text) {
  HttpHeaders headers;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty()) continue;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return std::nullopt;
    for (char c : line) {
      if (c == '\r' || c == '\0') return std::nullopt;  // no header injection
    }
    headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return headers;
}

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Copies `value` to the guest buffer and its length to `written_ptr`; error 4 when it does not
// fit (the crate then retries with a larger buffer).
std::int32_t write_out(GuestMemory& memory, std::string_view value, std::int32_t buf,
                       std::int32_t buf_len, std::int32_t written_ptr) {
  const auto at = static_cast<std::uint32_t>(buf);
  const auto capacity = static_cast<std::uint32_t>(buf_len);
  if (!memory.contains(at, capacity)) return http_error::kMemoryAccessError;
  if (value.size() > capacity) return http_error::kBufferTooSmall;
  std::copy(value.begin(), value.end(), memory.data() + at);
  if (!memory.store<std::uint32_t>(static_cast<std::uint32_t>(written_ptr),
                                   static_cast<std::uint32_t>(value.size())))
    return http_error::kMemoryAccessError;
  return http_error::kSuccess;
}

HostResult request(wasmtime::Caller caller, std::int32_t url_ptr, std::int32_t url_len,
                   std::int32_t method_ptr, std::int32_t method_len, std::int32_t headers_ptr,
                   std::int32_t headers_len, std::int32_t body_ptr, std::int32_t body_len,
                   std::int32_t status_ptr, std::int32_t handle_ptr) {
  StepState& state = step_state(caller);
  HttpSession& session = state.http;
  auto memory = GuestMemory::of(caller);
  if (!memory) return http_error::kMemoryNotFound;
  auto url = guest_string(*memory, url_ptr, url_len);
  auto method = guest_string(*memory, method_ptr, method_len);
  auto header_text = guest_string(*memory, headers_ptr, headers_len);
  auto body = guest_string(*memory, body_ptr, body_len);
  if (!url || !method || !header_text || !body) return http_error::kMemoryAccessError;
  if (!valid_utf8(*url) || !valid_utf8(*method) || !valid_utf8(*header_text))
    return http_error::kUtf8Error;

  const HttpPolicy* policy = session.policy;
  if (policy == nullptr) {
    session.note("outbound HTTP to " + *url +
                 " refused: the template grants no permissions.http (deny by default)");
    return http_error::kDestinationNotAllowed;
  }
  if (auto refused = policy->refusal(*url)) {
    if (refused->invalid_url) return http_error::kInvalidUrl;
    session.note("outbound HTTP to " + *url + " refused: " + refused->reason);
    return http_error::kDestinationNotAllowed;
  }
  if (!known_method(*method)) return http_error::kInvalidMethod;
  auto headers = parse_headers(*header_text);
  if (!headers) return http_error::kInvalidEncoding;
  if (session.open.size() >= policy->max_concurrent_requests) {
    session.note("outbound HTTP: more than " + std::to_string(policy->max_concurrent_requests) +
                 " responses open at once (permissions.http.max_concurrent_requests)");
    return http_error::kTooManySessions;
  }
  if (session.requests >= policy->max_requests) {
    session.note("outbound HTTP: the step's budget of " + std::to_string(policy->max_requests) +
                 " requests is spent");
    return http_error::kTooManySessions;
  }
  ++session.requests;

  HttpRequestBounds bounds;
  bounds.refusal = policy->refusal;
  bounds.address_refusal = policy->address_refusal;
  bounds.deadline =
      std::min(state.deadline, std::chrono::steady_clock::now() + policy->request_timeout);
  bounds.max_response_bytes = policy->max_response_bytes;
  bounds.cancelled = [&state] { return state.must_end(); };
  auto response =
      policy->transport(HttpRequest{*method, *url, std::move(*headers), std::move(*body)}, bounds);
  // The step's deadline or stop request ends the module here, like any blocking host call.
  if (state.host_end != StepState::HostEnd::None) return wasmtime::Trap("interrupted during HTTP");
  if (!response) {
    const Error& error = response.error();
    if (error.kind == ErrorKind::InvalidRequest) {
      session.note("outbound HTTP to " + *url + " refused: " + error.message);
      return http_error::kDestinationNotAllowed;
    }
    session.note("outbound HTTP to " + *url + " failed: " + error.message);
    return http_error::kRequestError;
  }
  const std::int32_t handle = session.next_handle++;
  const auto status = static_cast<std::uint16_t>(response->status);
  if (!memory->store<std::uint16_t>(static_cast<std::uint32_t>(status_ptr), status) ||
      !memory->store<std::int32_t>(static_cast<std::uint32_t>(handle_ptr), handle))
    return http_error::kMemoryAccessError;
  session.open.emplace(handle, HttpSession::OpenResponse{std::move(*response), 0});
  return http_error::kSuccess;
}

// Runs `use(response, memory)` for an open response handle, or answers the error code for an
// unknown handle or a module without memory.
HostResult with_response(wasmtime::Caller& caller, std::int32_t handle, auto use) {
  auto& open = step_state(caller).http.open;
  auto it = open.find(handle);
  if (it == open.end()) return http_error::kInvalidHandle;
  auto memory = GuestMemory::of(caller);
  if (!memory) return http_error::kMemoryNotFound;
  return use(it->second, *memory);
}

void define(wasmtime::Linker& linker, std::string_view name, auto function) {
  auto defined = linker.func_wrap(kModule, name, std::move(function));
  if (!defined) {
    throw std::runtime_error("cannot define " + std::string(kModule) + "::" + std::string(name) +
                             ": " + defined.err().message());
  }
}

}  // namespace

void define_http_host_module(wasmtime::Linker& linker) {
  define(linker, "req", request);
  define(linker, "close", [](wasmtime::Caller caller, std::int32_t handle) -> HostResult {
    return step_state(caller).http.open.erase(handle) == 1 ? http_error::kSuccess
                                                           : http_error::kInvalidHandle;
  });
  define(linker, "body_read",
         [](wasmtime::Caller caller, std::int32_t handle, std::int32_t buf, std::int32_t buf_len,
            std::int32_t written_ptr) -> HostResult {
           return with_response(
               caller, handle,
               [&](HttpSession::OpenResponse& open, GuestMemory& memory) -> std::int32_t {
                 const std::string& body = open.response.body;
                 const std::size_t chunk = std::min<std::size_t>(
                     static_cast<std::uint32_t>(buf_len), body.size() - open.body_read);
                 const auto result =
                     write_out(memory, std::string_view(body).substr(open.body_read, chunk), buf,
                               static_cast<std::int32_t>(chunk), written_ptr);
                 if (result == http_error::kSuccess) open.body_read += chunk;
                 return result;
               });
         });
  define(
      linker, "header_get",
      [](wasmtime::Caller caller, std::int32_t handle, std::int32_t name_ptr, std::int32_t name_len,
         std::int32_t buf, std::int32_t buf_len, std::int32_t written_ptr) -> HostResult {
        return with_response(
            caller, handle,
            [&](HttpSession::OpenResponse& open, GuestMemory& memory) -> std::int32_t {
              auto name = guest_string(memory, name_ptr, name_len);
              if (!name) return http_error::kMemoryAccessError;
              for (const auto& [key, value] : open.response.headers) {
                if (same_name(key, *name))
                  return write_out(memory, value, buf, buf_len, written_ptr);
              }
              return http_error::kHeaderNotFound;
            });
      });
  define(linker, "headers_get_all",
         [](wasmtime::Caller caller, std::int32_t handle, std::int32_t buf, std::int32_t buf_len,
            std::int32_t written_ptr) -> HostResult {
           return with_response(
               caller, handle,
               [&](HttpSession::OpenResponse& open, GuestMemory& memory) -> std::int32_t {
                 std::string all;
                 for (const auto& [key, value] : open.response.headers)
                   all += key + ":" + value + "\n";
                 return write_out(memory, all, buf, buf_len, written_ptr);
               });
         });
}

}  // namespace wwp::sandbox
