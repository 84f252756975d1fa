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
#include "wwp_http.h"
#include "wwp_module.h"

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
  const uint32_t err =
      wwp_http_request(url, strlen(url), method, strlen(method), headers, strlen(headers),
                       (const uint8_t*)body, strlen(body), &status, &handle);
  if (err != 0) {
    char message[256];
    snprintf(message, sizeof message, "%s %s: %s (error %u)", method, url, wwp_http_error_name(err),
             err);
    wwp_fail(message);
    return wwp_finish();
  }
  static char text[kMaxBody + 1];
  size_t length = 0;
  for (;;) {
    size_t written = 0;
    if (wwp_http_body_read(handle, (uint8_t*)text + length, kMaxBody - length, &written) != 0)
      break;
    if (written == 0) break;
    length += written;
    if (length == kMaxBody) break;
  }
  text[length] = '\0';
  char type[256] = "";
  size_t type_length = 0;
  if (wwp_http_header_get(handle, "content-type", 12, (uint8_t*)type, sizeof type - 1,
                          &type_length) == 0)
    type[type_length] = '\0';
  wwp_http_close(handle);

  char status_text[8];
  snprintf(status_text, sizeof status_text, "%u", status);
  output("status_code", status_text);
  output("body", text);
  output("content_type", type);
  return wwp_finish();
}
