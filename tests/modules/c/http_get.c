// Makes one request through the wasi_experimental_http host module (declared by the C SDK's
// wwp_http.h), as modules built with the wasi-experimental-http crate do: argv[1] URL, argv[2]
// method (default GET), argv[3] body. Prints "status=N" and the body; on an error from the host it
// prints "error=N" and exits with 100 + N, so tests see the exact code (7 = destination not
// allowed, 13 = too many sessions). argv[4], when given, repeats the request that many times
// without closing the responses.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wwp_http.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: http_get URL [METHOD [BODY [REPEAT]]]\n");
    return 2;
  }
  const char* url = argv[1];
  const char* method = argc > 2 ? argv[2] : "GET";
  const char* body = argc > 3 ? argv[3] : "";
  const int repeat = argc > 4 ? atoi(argv[4]) : 1;
  const char* headers = "content-type:text/plain\n";
  uint16_t status = 0;
  int32_t handle = -1;
  for (int i = 0; i < repeat; i++) {
    uint32_t err =
        wwp_http_request(url, strlen(url), method, strlen(method), headers, strlen(headers),
                         (const uint8_t*)body, strlen(body), &status, &handle);
    if (err != 0) {
      printf("error=%u\n", err);
      return 100 + (int)err;
    }
  }
  printf("status=%u\n", status);
  uint8_t value[256];
  size_t written = 0;
  if (wwp_http_header_get(handle, "Content-Type", 12, value, sizeof value - 1, &written) == 0) {
    value[written] = 0;
    printf("content-type=%s\n", (const char*)value);
  }
  uint8_t chunk[7];  // small on purpose: the body comes in several reads
  for (;;) {
    if (wwp_http_body_read(handle, chunk, sizeof chunk, &written) != 0) return 3;
    if (written == 0) break;
    fwrite(chunk, 1, written, stdout);
  }
  return wwp_http_close(handle) == 0 ? 0 : 4;
}
