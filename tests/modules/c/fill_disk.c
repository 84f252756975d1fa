// Writes to /tmp/fill until told to stop: argv[1] MiB in one file (default: without end), then
// argv[2] empty files (default 0). A step's disk limit must stop it before the node's disk fills.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char** argv) {
  const long mebibytes = argc > 1 ? atol(argv[1]) : -1;
  const long files = argc > 2 ? atol(argv[2]) : 0;
  static char block[1 << 20];
  memset(block, 'z', sizeof block);
  FILE* f = fopen("/tmp/fill", "wb");
  if (f == NULL) {
    perror("/tmp/fill");
    return 1;
  }
  for (long i = 0; mebibytes < 0 || i < mebibytes; ++i) {
    if (fwrite(block, 1, sizeof block, f) != sizeof block) {
      perror("write");
      return 1;
    }
    fflush(f);
  }
  fclose(f);
  char name[64];
  for (long i = 0; i < files; ++i) {
    snprintf(name, sizeof name, "/tmp/f%ld", i);
    FILE* g = fopen(name, "w");
    if (g == NULL) {
      perror(name);
      return 1;
    }
    fclose(g);
  }
  printf("wrote %ld MiB and %ld files\n", mebibytes, files);
  return 0;
}
