// Allocates and touches memory until allocation fails, then reports it like a real program.
// The blocks are chained so the compiler cannot elide the allocations.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct block {
  struct block* previous;
  char payload[(1 << 20) - sizeof(struct block*)];
};

struct block* volatile head = NULL;

int main(void) {
  size_t total = 0;
  for (;;) {
    struct block* b = malloc(sizeof *b);
    if (b == NULL) {
      fprintf(stderr, "out of memory after %zu MiB\n", total >> 20);
      return 1;
    }
    memset(b->payload, 1, sizeof b->payload);
    b->previous = head;
    head = b;
    total += sizeof *b;
  }
}
