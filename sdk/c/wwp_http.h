/* wwp_http.h: outbound HTTP for C/C++ modules (see sdk/README.md): the `wasi_experimental_http`
 * host functions with the ABI of the `wasi-experimental-http` crate 0.9/0.10, which the plugin
 * grants only to the hosts a template's permissions.http lists (docs/permissions-and-limits.md).
 *
 * Every function returns 0 or one of the WWP_HTTP_* error codes; wwp_http_error_name() names
 * it. Header lists are "name:value\n" lines. Declarations only: include it anywhere. */
#ifndef WWP_HTTP_H
#define WWP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define WWP_HTTP_IMPORT(name) \
  __attribute__((import_module("wasi_experimental_http"), import_name(name)))

enum {
  WWP_HTTP_SUCCESS = 0,
  WWP_HTTP_INVALID_HANDLE = 1,
  WWP_HTTP_MEMORY_NOT_FOUND = 2,
  WWP_HTTP_MEMORY_ACCESS_ERROR = 3,
  WWP_HTTP_BUFFER_TOO_SMALL = 4,
  WWP_HTTP_HEADER_NOT_FOUND = 5,
  WWP_HTTP_UTF8_ERROR = 6,
  WWP_HTTP_DESTINATION_NOT_ALLOWED = 7,
  WWP_HTTP_INVALID_METHOD = 8,
  WWP_HTTP_INVALID_ENCODING = 9,
  WWP_HTTP_INVALID_URL = 10,
  WWP_HTTP_REQUEST_ERROR = 11,
  WWP_HTTP_RUNTIME_ERROR = 12,
  WWP_HTTP_TOO_MANY_SESSIONS = 13,
};

#ifdef __cplusplus
extern "C" {
#endif

/* Sends a request; on success *status is the HTTP status and *handle the response to read. */
WWP_HTTP_IMPORT("req")
uint32_t wwp_http_request(const char* url, size_t url_len, const char* method, size_t method_len,
                          const char* headers, size_t headers_len, const uint8_t* body,
                          size_t body_len, uint16_t* status, int32_t* handle);
/* Releases a response (a step holds at most permissions.http.max_concurrent_requests). */
WWP_HTTP_IMPORT("close") uint32_t wwp_http_close(int32_t handle);
/* Reads the next part of the body; *written == 0 at its end. */
WWP_HTTP_IMPORT("body_read")
uint32_t wwp_http_body_read(int32_t handle, uint8_t* buf, size_t buf_len, size_t* written);
/* One header's value (names compare case-insensitively). */
WWP_HTTP_IMPORT("header_get")
uint32_t wwp_http_header_get(int32_t handle, const char* name, size_t name_len, uint8_t* buf,
                             size_t buf_len, size_t* written);
/* Every header, as "name:value\n" lines. */
WWP_HTTP_IMPORT("headers_get_all")
uint32_t wwp_http_headers_get_all(int32_t handle, uint8_t* buf, size_t buf_len, size_t* written);

static inline const char* wwp_http_error_name(uint32_t code) {
  static const char* const names[] = {
      "success",          "invalid handle",   "memory not found", "memory access error",
      "buffer too small", "header not found", "UTF-8 error",      "destination not allowed",
      "invalid method",   "invalid encoding", "invalid URL",      "request error",
      "runtime error",    "too many sessions"};
  return code < sizeof names / sizeof names[0] ? names[code] : "unknown error";
}

#ifdef __cplusplus
}
#endif

#endif /* WWP_HTTP_H */
