/* The C SDK on the host: input.json parsing (escapes, numbers, unknown fields, malformed and
 * too-deep input) and the result.json it writes, read back by a JSON parser (python3). */
#define WWP_RESULT_FILE "result.json"
#define WWP_ARTIFACTS_OUT_DIR "artifacts-out"
#define WWP_MODULE_IMPLEMENTATION
#include "wwp_module.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                              \
  do {                                                           \
    if (!(cond)) {                                               \
      fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                \
    }                                                            \
  } while (0)

static int load(const char* text) { return wwp_load_text(text, (unsigned long)strlen(text)); }

int main(void) {
  CHECK(load("[1, 2]") != 0);
  CHECK(load("{\"parameters\": 3}") != 0);
  CHECK(load("{\"parameters\": [{\"name\": \"a\", \"value\": \"x}") != 0);
  CHECK(load("{\"workflow_name\": tru}") != 0);
  /* Well-formed but deeper than WWP_MAX_DEPTH: refused, without deep recursion. */
  char doc[1024];
  int n = snprintf(doc, sizeof doc, "{\"x\": ");
  for (int i = 0; i < 300; ++i) doc[n++] = '[';
  for (int i = 0; i < 300; ++i) doc[n++] = ']';
  doc[n++] = '}';
  doc[n] = '\0';
  CHECK(load(doc) != 0);
  n = snprintf(doc, sizeof doc, "{\"x\": [[[[1]]]], \"workflow_name\": \"shallow\"}");
  CHECK(load(doc) == 0 && strcmp(wwp_workflow_name(), "shallow") == 0);

  const char* good =
      "{\"workflow_name\": \"wf-1\", \"extra\": {\"nested\": [1, {\"a\": null}], \"b\": false},"
      " \"plugin_options\": [{\"name\": \"greeting\", \"value\": \"hi\"}],"
      " \"parameters\": [{\"name\": \"text\", \"value\": \"line\\nt\\u00e9st \\ud83e\\udd80 "
      "\\\"q\\\"\"},"
      "   {\"value\": 3, \"name\": \"n\"}, {\"name\": \"empty\", \"value\": null}],"
      " \"artifacts\": [{\"name\": \"input\", \"path\": \"/nonexistent/input\", \"s3\": {\"key\": "
      "\"k\"}}]}";
  CHECK(load(good) == 0);
  CHECK(strcmp(wwp_workflow_name(), "wf-1") == 0);
  CHECK(wwp_param("text") &&
        strcmp(wwp_param("text"), "line\nt\xc3\xa9st \xf0\x9f\xa6\x80 \"q\"") == 0);
  CHECK(wwp_param("n") && strcmp(wwp_param("n"), "3") == 0);
  CHECK(wwp_param("empty") && strcmp(wwp_param("empty"), "") == 0);
  CHECK(wwp_param("missing") == NULL);
  CHECK(wwp_option("greeting") && strcmp(wwp_option("greeting"), "hi") == 0);
  CHECK(wwp_input_artifact("input") == NULL); /* declared but the file does not exist */

  CHECK(wwp_set_param("out", "a") == 0);
  CHECK(wwp_set_param("out", "tab\there \"quoted\"") == 0);
  CHECK(wwp_output_artifact("../escape") == NULL);
  const char* path = wwp_output_artifact("output");
  CHECK(path && strcmp(path, "artifacts-out/output") == 0);
  wwp_fail("broken\non purpose");
  CHECK(wwp_finish() == 0);
  if (failures) fprintf(stderr, "%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
