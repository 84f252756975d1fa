// Asks for 48 MiB at once, as a program loading a big input would, and exits with a code of its
// own when refused: the step's message must still name the memory limit.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  size_t size = (size_t)48 << 20;
  char* volatile buffer = malloc(size);
  if (buffer == NULL) {
    fprintf(stderr, "cannot allocate %zu MiB\n", size >> 20);
    return 7;
  }
  memset(buffer, 1, size);
  puts("allocated");
  return 0;
}
