// Opens argv[1] files under /tmp and keeps them all open; with argv[2] == "hold" it then spins
// until stopped. Each open WASI file is a host descriptor of the plugin process, which every
// step shares: the step's open-files limit must stop it.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  const long wanted = argc > 1 ? atol(argv[1]) : 10;
  const int hold = argc > 2;
  char name[64];
  long opened = 0;
  for (; opened < wanted; ++opened) {
    snprintf(name, sizeof name, "/tmp/o%ld", opened);
    if (fopen(name, "w") == NULL) {
      perror(name);
      return 1;
    }
  }
  printf("%ld files open\n", opened);
  fflush(stdout);
  while (hold) {
  }
  return 0;
}
