// Traps (unreachable) two calls deep, so the failure message carries a Wasm backtrace.
#include <stdio.h>

__attribute__((noinline)) static void explode(int depth) {
  if (depth == 0) __builtin_trap();
  explode(depth - 1);
  printf("unreachable\n");
}

int main(void) {
  explode(2);
  return 0;
}
