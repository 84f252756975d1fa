// Reads the file named by argv[1] and writes it upper-cased to argv[2]: a Wasm step between two
// container steps, exchanging files through the artifact repository.
#include <ctype.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: upper IN OUT\n");
    return 2;
  }
  FILE* in = fopen(argv[1], "r");
  if (in == NULL) {
    perror(argv[1]);
    return 1;
  }
  FILE* out = fopen(argv[2], "w");
  if (out == NULL) {
    perror(argv[2]);
    return 1;
  }
  int c;
  while ((c = fgetc(in)) != EOF) fputc(toupper(c), out);
  fclose(in);
  return fclose(out) == 0 ? 0 : 1;
}
