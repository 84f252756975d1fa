// Allocates and touches memory until allocation fails, then reports it like a real program.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  size_t total = 0;
  for (;;) {
    char* block = malloc(1 << 20);
    if (block == NULL) {
      fprintf(stderr, "out of memory after %zu MiB\n", total >> 20);
      return 1;
    }
    memset(block, 1, 1 << 20);
    total += 1 << 20;
  }
}
