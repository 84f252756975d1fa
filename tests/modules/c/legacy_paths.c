// Uses exactly the artifact paths of the earlier (Rust) implementation's SDK, whose
// ArtifactManager joins an artifact's declared path under /work/artifacts-in or -out:
// - input artifact {name: input, path: /input.jpg} is read at /work/artifacts-in/input.jpg, and
//   /work/input.json must name it by that declared path;
// - the output is written at /work/artifacts-out/output.jpg and reported in /work/result.json as
//   {name: output, path: /output.jpg}, as the earlier image-processor does;
// - an output the template declares at /out.png is written at /work/artifacts-out/out.png.
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static char buffer[1 << 16];

static int slurp(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return 1;
  }
  *size = fread(buffer, 1, sizeof buffer - 1, f);
  buffer[*size] = '\0';
  fclose(f);
  return 0;
}

static int spill(const char* path, const char* data, size_t size) {
  FILE* f = fopen(path, "wb");
  if (f == NULL) {
    perror(path);
    return 1;
  }
  fwrite(data, 1, size, f);
  return fclose(f) == 0 ? 0 : 1;
}

int main(void) {
  size_t size = 0;
  if (slurp("/work/input.json", &size)) return 1;
  if (strstr(buffer, "\"path\":\"/input.jpg\"") == NULL) {
    fprintf(stderr, "input.json does not name /input.jpg: %s\n", buffer);
    return 1;
  }
  if (slurp("/work/artifacts-in/input.jpg", &size)) return 1;
  for (size_t i = 0; i < size; ++i) buffer[i] = (char)toupper((unsigned char)buffer[i]);
  if (spill("/work/artifacts-out/output.jpg", buffer, size)) return 1;
  const char png[] = "declared at /out.png\n";
  if (spill("/work/artifacts-out/out.png", png, sizeof png - 1)) return 1;
  const char result[] =
      "{\"phase\":\"Succeeded\",\"message\":\"Image processed\",\"outputs\":{\"parameters\":[],"
      "\"artifacts\":[{\"name\":\"output\",\"path\":\"/output.jpg\"}]}}";
  if (spill("/work/result.json", result, sizeof result - 1)) return 1;
  return 0;
}
