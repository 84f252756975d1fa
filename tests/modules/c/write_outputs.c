// A plain WASI program that declares its outputs as files, like a container step would:
// writes argv[1] to /tmp/message.txt and the value of $GREETING to /tmp/greeting.txt.
#include <stdio.h>
#include <stdlib.h>

static int write_file(const char* path, const char* text) {
  FILE* f = fopen(path, "w");
  if (f == NULL) {
    perror(path);
    return 1;
  }
  fputs(text, f);
  return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  const char* greeting = getenv("GREETING");
  if (write_file("/tmp/message.txt", argc > 1 ? argv[1] : "no message")) return 1;
  if (write_file("/tmp/greeting.txt", greeting ? greeting : "unset")) return 1;
  printf("wrote 2 files\n");
  return 0;
}
