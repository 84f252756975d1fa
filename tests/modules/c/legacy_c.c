// A module of the earlier implementation's file ABI in C, the smallest kind a user writes: reads
// /work/input.json and answers in /work/result.json with one output parameter holding the size
// of the input it read. The benchmark's "legacy" step (docs/benchmarks.md).
#include <stdio.h>

int main(void) {
  FILE* in = fopen("/work/input.json", "rb");
  if (in == NULL) {
    perror("/work/input.json");
    return 1;
  }
  char buffer[65536];
  const size_t size = fread(buffer, 1, sizeof buffer, in);
  fclose(in);
  FILE* out = fopen("/work/result.json", "wb");
  if (out == NULL) {
    perror("/work/result.json");
    return 1;
  }
  fprintf(out,
          "{\"phase\":\"Succeeded\",\"message\":\"read input\","
          "\"outputs\":{\"parameters\":[{\"name\":\"input_bytes\",\"value\":\"%zu\"}]}}",
          size);
  return fclose(out) == 0 ? 0 : 1;
}
