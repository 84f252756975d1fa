// Writes to stdout without end: the stdout cap must stop it.
#include <stdio.h>

int main(void) {
  for (;;) puts("flooding stdout with a line that never ends the step");
}
