// The smallest useful step: one line on stdout. What the hot-path benchmarks run.
#include <stdio.h>

int main(void) {
  puts("hello");
  return 0;
}
