// The earlier implementation's http-request example, on the C SDK: makes one outbound HTTP request
// through the wasi_experimental_http host module (allowed only to the hosts the template's
// permissions.http lists) and returns what came back.
//   in:  url (required), method (GET), body (""), content_type (text/plain)
//   out: status_code, body, content_type
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WWP_MODULE_IMPLEMENTATION
#include "wwp_module.h"

#define HTTP_IMPORT(name) \
  __attribute__((import_module("wasi_experimental_http"), import_name(name)))
HTTP_IMPORT("req")
uint32_t req(const char* url, size_t url_len, const char* method, size_t method_len,
             const char* headers, size_t headers_len, const uint8_t* body, size_t body_len,
             uint16_t* status, int32_t* handle);
HTTP_IMPORT("close") uint32_t close_response(int32_t handle);
HTTP_IMPORT("body_read")
uint32_t body_read(int32_t handle, uint8_t* buf, size_t buf_len, size_t* written);
HTTP_IMPORT("header_get")
uint32_t header_get(int32_t handle, const char* name, size_t name_len, uint8_t* buf, size_t buf_len,
                    size_t* written);

// The host's error codes (wasi-experimental-http), for messages.
static const char* http_error_name(uint32_t code) {
  static const char* names[] = {
      "success",          "invalid handle",   "memory not found", "memory access",
      "buffer too small", "header not found", "UTF-8 error",      "destination not allowed",
      "invalid method",   "invalid encoding", "invalid URL",      "request error",
      "runtime error",    "too many sessions"};
  return code < sizeof names / sizeof names[0] ? names[code] : "unknown error";
}

enum { kMaxBody = 1 << 20 };

// Reports an output in result.json and as /work/out/<name> (the workflow declares that path).
static void output(const char* name, const char* value) {
  char path[64];
  snprintf(path, sizeof path, "/work/out/%s", name);
  wwp_set_param(name, value);
  wwp_write_output(path, value, strlen(value));
}  // an output parameter travels in the workflow: keep it small

int main(void) {
  if (wwp_load() != 0) {
    fprintf(stderr, "http-request: %s\n", wwp_error());
    return 1;
  }
  const char* url = wwp_param("url");
  const char* method = wwp_param("method") ? wwp_param("method") : "GET";
  const char* body = wwp_param("body") ? wwp_param("body") : "";
  const char* content_type = wwp_param("content_type") ? wwp_param("content_type") : "text/plain";
  if (url == NULL || url[0] == '\0') {
    wwp_fail("input parameter url is required");
    return wwp_finish();
  }
  char headers[512];
  snprintf(headers, sizeof headers, "content-type:%s\n", content_type);

  uint16_t status = 0;
  int32_t handle = -1;
  const uint32_t err = req(url, strlen(url), method, strlen(method), headers, strlen(headers),
                           (const uint8_t*)body, strlen(body), &status, &handle);
  if (err != 0) {
    char message[256];
    snprintf(message, sizeof message, "%s %s: %s (error %u)", method, url, http_error_name(err),
             err);
    wwp_fail(message);
    return wwp_finish();
  }
  static char text[kMaxBody + 1];
  size_t length = 0;
  for (;;) {
    size_t written = 0;
    if (body_read(handle, (uint8_t*)text + length, kMaxBody - length, &written) != 0) break;
    if (written == 0) break;
    length += written;
    if (length == kMaxBody) break;
  }
  text[length] = '\0';
  char type[256] = "";
  size_t type_length = 0;
  if (header_get(handle, "content-type", 12, (uint8_t*)type, sizeof type - 1, &type_length) == 0)
    type[type_length] = '\0';
  close_response(handle);

  char status_text[8];
  snprintf(status_text, sizeof status_text, "%u", status);
  output("status_code", status_text);
  output("body", text);
  output("content_type", type);
  return wwp_finish();
}
