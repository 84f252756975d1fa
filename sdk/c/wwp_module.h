/* wwp_module.h: one-header SDK for wasm-workflows-plugin modules in C/C++ (see sdk/README.md).
 *
 * Earlier-ABI steps: wwp_load() reads /work/input.json; wwp_param(), wwp_option() and
 * wwp_input_artifact() look things up; wwp_set_param(), wwp_output_artifact(), wwp_fail() build
 * the report that wwp_finish() writes to /work/result.json. Plain WASI steps: wwp_write_output()
 * writes a file at a template's declared output path.
 *
 * In exactly one file: #define WWP_MODULE_IMPLEMENTATION before including this header.
 * Limits: input.json up to WWP_MAX_INPUT bytes, nesting up to WWP_MAX_DEPTH. */
#ifndef WWP_MODULE_H
#define WWP_MODULE_H

#define WWP_SDK_VERSION "0.1.0"
#define WWP_MAX_INPUT (16 * 1024 * 1024)
#define WWP_MAX_DEPTH 64
#ifndef WWP_INPUT_FILE /* overridable for host-side tests */
#define WWP_INPUT_FILE "/work/input.json"
#endif
#ifndef WWP_RESULT_FILE
#define WWP_RESULT_FILE "/work/result.json"
#endif
#ifndef WWP_ARTIFACTS_IN_DIR
#define WWP_ARTIFACTS_IN_DIR "/work/artifacts-in"
#endif
#ifndef WWP_ARTIFACTS_OUT_DIR
#define WWP_ARTIFACTS_OUT_DIR "/work/artifacts-out"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Reads and parses /work/input.json; 0 on success, -1 with wwp_error() set. */
int wwp_load(void);
/* Parses input.json text (for tests); same result as wwp_load. */
int wwp_load_text(const char* text, unsigned long length);
/* The last error's message. */
const char* wwp_error(void);
const char* wwp_workflow_name(void);
/* Input parameter / plugin option value as text, or NULL when absent. */
const char* wwp_param(const char* name);
const char* wwp_option(const char* name);
/* Path of a supplied input artifact, or NULL when absent or not supplied. */
const char* wwp_input_artifact(const char* name);
/* Sets an output parameter (copied); 0 on success. */
int wwp_set_param(const char* name, const char* value);
/* Reports output artifact `name` and returns where to write it (/work/artifacts-out/<name>). */
const char* wwp_output_artifact(const char* name);
void wwp_set_message(const char* message);
/* Marks the step Failed with the message. */
void wwp_fail(const char* message);
/* Writes /work/result.json; 0 on success. */
int wwp_finish(void);
/* Plain WASI helper: writes `length` bytes to `path`, creating its directory; 0 on success. */
int wwp_write_output(const char* path, const void* data, unsigned long length);

#ifdef __cplusplus
}
#endif

#ifdef WWP_MODULE_IMPLEMENTATION
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
  char* name;
  char* value;
} wwp_pair;

typedef struct {
  wwp_pair* items;
  int count;
} wwp_list;

static struct {
  char error[256];
  char* workflow;
  wwp_list params, options, artifacts, out_params, out_artifacts;
  char* message;
  int failed;
} wwp_state;

static void wwp_set_error(const char* what, const char* detail) {
  snprintf(wwp_state.error, sizeof wwp_state.error, "%s%s%s", what, detail ? ": " : "",
           detail ? detail : "");
}

const char* wwp_error(void) { return wwp_state.error; }

static char* wwp_strndup(const char* s, size_t n) {
  char* copy = (char*)malloc(n + 1);
  if (copy) {
    memcpy(copy, s, n);
    copy[n] = '\0';
  }
  return copy;
}

static int wwp_list_set(wwp_list* list, const char* name, const char* value) {
  for (int i = 0; i < list->count; ++i) {
    if (strcmp(list->items[i].name, name) == 0) {
      char* v = wwp_strndup(value, strlen(value));
      if (!v) return -1;
      free(list->items[i].value);
      list->items[i].value = v;
      return 0;
    }
  }
  wwp_pair* grown = (wwp_pair*)realloc(list->items, sizeof(wwp_pair) * (size_t)(list->count + 1));
  if (!grown) return -1;
  list->items = grown;
  grown[list->count].name = wwp_strndup(name, strlen(name));
  grown[list->count].value = wwp_strndup(value, strlen(value));
  if (!grown[list->count].name || !grown[list->count].value) return -1;
  list->count++;
  return 0;
}

static const char* wwp_list_get(const wwp_list* list, const char* name) {
  for (int i = 0; i < list->count; ++i)
    if (strcmp(list->items[i].name, name) == 0) return list->items[i].value;
  return NULL;
}

/* ---- a small JSON reader: enough for input.json, with depth and size limits ---- */

typedef struct {
  const char *p, *end;
  int depth;
} wwp_json;

static void wwp_ws(wwp_json* j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int wwp_append(char** buf, size_t* len, size_t* cap, const char* s, size_t n) {
  if (*len + n + 1 > *cap) {
    size_t want = (*cap ? *cap * 2 : 64);
    while (want < *len + n + 1) want *= 2;
    char* grown = (char*)realloc(*buf, want);
    if (!grown) return -1;
    *buf = grown;
    *cap = want;
  }
  memcpy(*buf + *len, s, n);
  *len += n;
  (*buf)[*len] = '\0';
  return 0;
}

static int wwp_utf8(char** buf, size_t* len, size_t* cap, unsigned long c) {
  char out[4];
  size_t n;
  if (c < 0x80) {
    out[0] = (char)c;
    n = 1;
  } else if (c < 0x800) {
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    n = 2;
  } else if (c < 0x10000) {
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    n = 3;
  } else {
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    n = 4;
  }
  return wwp_append(buf, len, cap, out, n);
}

static int wwp_hex4(wwp_json* j, unsigned long* out) {
  if (j->end - j->p < 4) return -1;
  *out = 0;
  for (int i = 0; i < 4; ++i) {
    char c = *j->p++;
    *out <<= 4;
    if (c >= '0' && c <= '9')
      *out |= (unsigned long)(c - '0');
    else if (c >= 'a' && c <= 'f')
      *out |= (unsigned long)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      *out |= (unsigned long)(c - 'A' + 10);
    else
      return -1;
  }
  return 0;
}

/* Reads a JSON string (j->p at the opening quote) into a new buffer. */
static char* wwp_string(wwp_json* j) {
  char* buf = NULL;
  size_t len = 0, cap = 0;
  if (j->p >= j->end || *j->p != '"') return NULL;
  j->p++;
  if (wwp_append(&buf, &len, &cap, "", 0) != 0) return NULL;
  while (j->p < j->end && *j->p != '"') {
    if ((unsigned char)*j->p < 0x20) break;
    if (*j->p != '\\') {
      const char* start = j->p;
      while (j->p < j->end && *j->p != '"' && *j->p != '\\' && (unsigned char)*j->p >= 0x20) j->p++;
      if (wwp_append(&buf, &len, &cap, start, (size_t)(j->p - start)) != 0) break;
      continue;
    }
    if (++j->p >= j->end) break;
    char e = *j->p++;
    const char* simple = NULL;
    switch (e) {
      case '"':
        simple = "\"";
        break;
      case '\\':
        simple = "\\";
        break;
      case '/':
        simple = "/";
        break;
      case 'b':
        simple = "\b";
        break;
      case 'f':
        simple = "\f";
        break;
      case 'n':
        simple = "\n";
        break;
      case 'r':
        simple = "\r";
        break;
      case 't':
        simple = "\t";
        break;
      case 'u': {
        unsigned long c, low;
        if (wwp_hex4(j, &c) != 0) goto bad;
        if (c >= 0xD800 && c <= 0xDBFF) {
          if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u') goto bad;
          j->p += 2;
          if (wwp_hex4(j, &low) != 0 || low < 0xDC00 || low > 0xDFFF) goto bad;
          c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
        }
        if (wwp_utf8(&buf, &len, &cap, c) != 0) goto bad;
        continue;
      }
      default:
        goto bad;
    }
    if (wwp_append(&buf, &len, &cap, simple, 1) != 0) goto bad;
  }
  if (j->p < j->end && *j->p == '"') {
    j->p++;
    return buf;
  }
bad:
  free(buf);
  return NULL;
}

/* Skips any JSON value; returns its raw text span through start/end. */
static int wwp_skip(wwp_json* j) {
  wwp_ws(j);
  if (j->p >= j->end) return -1;
  char c = *j->p;
  if (c == '"') {
    char* s = wwp_string(j);
    if (!s) return -1;
    free(s);
    return 0;
  }
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    if (++j->depth > WWP_MAX_DEPTH) return -1;
    j->p++;
    wwp_ws(j);
    if (j->p < j->end && *j->p == close) {
      j->p++;
      j->depth--;
      return 0;
    }
    for (;;) {
      if (c == '{') {
        wwp_ws(j);
        char* key = wwp_string(j);
        if (!key) return -1;
        free(key);
        wwp_ws(j);
        if (j->p >= j->end || *j->p++ != ':') return -1;
      }
      if (wwp_skip(j) != 0) return -1;
      wwp_ws(j);
      if (j->p >= j->end) return -1;
      if (*j->p == ',') {
        j->p++;
        continue;
      }
      if (*j->p == close) {
        j->p++;
        j->depth--;
        return 0;
      }
      return -1;
    }
  }
  const char* start = j->p;
  while (j->p < j->end && (strchr("+-.eE", *j->p) || (*j->p >= '0' && *j->p <= '9') ||
                           (*j->p >= 'a' && *j->p <= 'z')))
    j->p++;
  size_t n = (size_t)(j->p - start);
  if (n == 0) return -1;
  if ((n == 4 && (!strncmp(start, "true", 4) || !strncmp(start, "null", 4))) ||
      (n == 5 && !strncmp(start, "false", 5)))
    return 0;
  if (*start == '-' || (*start >= '0' && *start <= '9')) return 0;
  return -1;
}

/* A value as text: strings unquoted, anything else as its JSON text, null as "". */
static char* wwp_value_text(wwp_json* j) {
  wwp_ws(j);
  if (j->p < j->end && *j->p == '"') return wwp_string(j);
  const char* start = j->p;
  if (wwp_skip(j) != 0) return NULL;
  if (j->p - start == 4 && !strncmp(start, "null", 4)) return wwp_strndup("", 0);
  return wwp_strndup(start, (size_t)(j->p - start));
}

/* Reads [{"name": ..., <field>: ...}, ...] into `list` (field "value" or "path"). */
static int wwp_pairs(wwp_json* j, wwp_list* list, const char* field) {
  wwp_ws(j);
  if (j->p >= j->end || *j->p != '[') return -1;
  j->p++;
  wwp_ws(j);
  if (j->p < j->end && *j->p == ']') {
    j->p++;
    return 0;
  }
  for (;;) {
    wwp_ws(j);
    if (j->p >= j->end || *j->p != '{') return -1;
    j->p++;
    char *name = NULL, *value = NULL;
    wwp_ws(j);
    if (j->p < j->end && *j->p == '}') {
      j->p++;
      goto next;
    }
    for (;;) {
      wwp_ws(j);
      char* key = wwp_string(j);
      if (!key) goto fail;
      wwp_ws(j);
      if (j->p >= j->end || *j->p++ != ':') {
        free(key);
        goto fail;
      }
      wwp_ws(j);
      if (strcmp(key, "name") == 0 && j->p < j->end && *j->p == '"') {
        free(name);
        name = wwp_string(j);
        if (!name) {
          free(key);
          goto fail;
        }
      } else if (strcmp(key, field) == 0) {
        free(value);
        value = wwp_value_text(j);
        if (!value) {
          free(key);
          goto fail;
        }
      } else if (wwp_skip(j) != 0) {
        free(key);
        goto fail;
      }
      free(key);
      wwp_ws(j);
      if (j->p < j->end && *j->p == ',') {
        j->p++;
        continue;
      }
      if (j->p < j->end && *j->p == '}') {
        j->p++;
        break;
      }
      goto fail;
    }
    if (name && wwp_list_set(list, name, value ? value : "") != 0) goto fail;
    free(name);
    free(value);
  next:
    wwp_ws(j);
    if (j->p < j->end && *j->p == ',') {
      j->p++;
      continue;
    }
    if (j->p < j->end && *j->p == ']') {
      j->p++;
      return 0;
    }
    return -1;
  fail:
    free(name);
    free(value);
    return -1;
  }
}

int wwp_load_text(const char* text, unsigned long length) {
  wwp_json j = {text, text + length, 0};
  wwp_ws(&j);
  if (j.p >= j.end || *j.p != '{') {
    wwp_set_error("input.json: expected an object", NULL);
    return -1;
  }
  j.p++;
  wwp_ws(&j);
  if (j.p < j.end && *j.p == '}') return 0;
  for (;;) {
    wwp_ws(&j);
    char* key = wwp_string(&j);
    if (!key) {
      wwp_set_error("input.json: bad key", NULL);
      return -1;
    }
    wwp_ws(&j);
    int rc = (j.p < j.end && *j.p++ == ':') ? 0 : -1;
    if (rc == 0) {
      if (strcmp(key, "workflow_name") == 0) {
        free(wwp_state.workflow);
        wwp_state.workflow = wwp_value_text(&j);
        rc = wwp_state.workflow ? 0 : -1;
      } else if (strcmp(key, "parameters") == 0) {
        rc = wwp_pairs(&j, &wwp_state.params, "value");
      } else if (strcmp(key, "plugin_options") == 0) {
        rc = wwp_pairs(&j, &wwp_state.options, "value");
      } else if (strcmp(key, "artifacts") == 0) {
        rc = wwp_pairs(&j, &wwp_state.artifacts, "path");
      } else {
        rc = wwp_skip(&j);
      }
    }
    if (rc != 0) {
      wwp_set_error("input.json: malformed field", key);
      free(key);
      return -1;
    }
    free(key);
    wwp_ws(&j);
    if (j.p < j.end && *j.p == ',') {
      j.p++;
      continue;
    }
    if (j.p < j.end && *j.p == '}') return 0;
    wwp_set_error("input.json: expected , or }", NULL);
    return -1;
  }
}

int wwp_load(void) {
  FILE* f = fopen(WWP_INPUT_FILE, "rb");
  if (!f) {
    wwp_set_error("cannot open " WWP_INPUT_FILE, strerror(errno));
    return -1;
  }
  char* text = (char*)malloc(WWP_MAX_INPUT + 1);
  if (!text) {
    fclose(f);
    wwp_set_error("out of memory", NULL);
    return -1;
  }
  size_t n = fread(text, 1, WWP_MAX_INPUT + 1, f);
  fclose(f);
  if (n > WWP_MAX_INPUT) {
    free(text);
    wwp_set_error(WWP_INPUT_FILE " is larger than WWP_MAX_INPUT", NULL);
    return -1;
  }
  int rc = wwp_load_text(text, (unsigned long)n);
  free(text);
  return rc;
}

const char* wwp_workflow_name(void) { return wwp_state.workflow ? wwp_state.workflow : ""; }
const char* wwp_param(const char* name) { return wwp_list_get(&wwp_state.params, name); }
const char* wwp_option(const char* name) { return wwp_list_get(&wwp_state.options, name); }

const char* wwp_input_artifact(const char* name) {
  const char* path = wwp_list_get(&wwp_state.artifacts, name);
  static char fallback[512];
  if (path && *path == '\0') {
    snprintf(fallback, sizeof fallback, WWP_ARTIFACTS_IN_DIR "/%s", name);
    path = fallback;
  }
  struct stat st;
  return (path && stat(path, &st) == 0) ? path : NULL;
}

/* Creates the directories above `path` (existing ones are fine). */
static int wwp_make_parents(const char* path) {
  char dir[512];
  size_t n = strlen(path);
  if (n >= sizeof dir) {
    wwp_set_error("path too long", path);
    return -1;
  }
  memcpy(dir, path, n + 1);
  for (char* p = dir + 1; *p; ++p) {
    if (*p == '/') {
      *p = '\0';
      if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        wwp_set_error("cannot create directory", dir);
        return -1;
      }
      *p = '/';
    }
  }
  return 0;
}

int wwp_set_param(const char* name, const char* value) {
  return wwp_list_set(&wwp_state.out_params, name, value);
}

const char* wwp_output_artifact(const char* name) {
  char path[512];
  if (strchr(name, '/') ||
      snprintf(path, sizeof path, WWP_ARTIFACTS_OUT_DIR "/%s", name) >= (int)sizeof path)
    return NULL;
  if (wwp_make_parents(path) != 0) return NULL;
  if (wwp_list_set(&wwp_state.out_artifacts, name, path) != 0) return NULL;
  return wwp_list_get(&wwp_state.out_artifacts, name);
}

void wwp_set_message(const char* message) {
  free(wwp_state.message);
  wwp_state.message = wwp_strndup(message, strlen(message));
}

void wwp_fail(const char* message) {
  wwp_state.failed = 1;
  wwp_set_message(message);
}

static void wwp_put_string(FILE* f, const char* s) {
  fputc('"', f);
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c == '\n')
      fputs("\\n", f);
    else if (c == '\r')
      fputs("\\r", f);
    else if (c == '\t')
      fputs("\\t", f);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

static void wwp_put_list(FILE* f, const wwp_list* list, const char* field) {
  fputc('[', f);
  for (int i = 0; i < list->count; ++i) {
    fputs(i ? ",{\"name\":" : "{\"name\":", f);
    wwp_put_string(f, list->items[i].name);
    fprintf(f, ",\"%s\":", field);
    wwp_put_string(f, list->items[i].value);
    fputc('}', f);
  }
  fputc(']', f);
}

int wwp_finish(void) {
  FILE* f = fopen(WWP_RESULT_FILE, "wb");
  if (!f) {
    wwp_set_error("cannot write " WWP_RESULT_FILE, strerror(errno));
    return -1;
  }
  fprintf(f, "{\"phase\":\"%s\",\"message\":", wwp_state.failed ? "Failed" : "Succeeded");
  wwp_put_string(f, wwp_state.message ? wwp_state.message : "");
  fputs(",\"outputs\":{\"parameters\":", f);
  wwp_put_list(f, &wwp_state.out_params, "value");
  fputs(",\"artifacts\":", f);
  wwp_put_list(f, &wwp_state.out_artifacts, "path");
  fputs("}}\n", f);
  if (fclose(f) != 0) {
    wwp_set_error("cannot write " WWP_RESULT_FILE, strerror(errno));
    return -1;
  }
  return 0;
}

int wwp_write_output(const char* path, const void* data, unsigned long length) {
  if (wwp_make_parents(path) != 0) return -1;
  FILE* f = fopen(path, "wb");
  if (!f) {
    wwp_set_error("cannot write", path);
    return -1;
  }
  size_t written = fwrite(data, 1, length, f);
  if (fclose(f) != 0 || written != length) {
    wwp_set_error("cannot write", path);
    return -1;
  }
  return 0;
}
#endif /* WWP_MODULE_IMPLEMENTATION */
#endif /* WWP_MODULE_H */
