// Fails the way a CLI tool does: a message on stderr and a non-zero exit code.
#include <stdio.h>

int main(void) {
  printf("partial output\n");
  fprintf(stderr, "warming up\n");
  fprintf(stderr, "error: the input is not valid\n");
  return 3;
}
