// Buries a file DEPTH directories deep under DIR (default 20000 under /tmp/deep), the way a hostile
// module fills a node: one directory open at a time, each level created and entered by a short
// relative name (mkdirat + openat, like mkdir + chdir), then a 1 MiB file at the bottom.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const long depth = argc > 1 ? atol(argv[1]) : 20000;
  const char* top = argc > 2 ? argv[2] : "/tmp/deep";
  if (mkdir(top, 0755) != 0) {
    perror(top);
    return 1;
  }
  int dir = open(top, O_RDONLY | O_DIRECTORY);
  if (dir < 0) {
    perror(top);
    return 1;
  }
  for (long level = 0; level < depth; ++level) {
    if (mkdirat(dir, "d", 0755) != 0) {
      fprintf(stderr, "mkdir at level %ld failed\n", level);
      return 1;
    }
    int child = openat(dir, "d", O_RDONLY | O_DIRECTORY);
    if (child < 0) {
      fprintf(stderr, "open at level %ld failed\n", level);
      return 1;
    }
    close(dir);
    dir = child;
  }
  int file = openat(dir, "buried", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (file < 0) {
    perror("buried");
    return 1;
  }
  static char block[1 << 16];
  memset(block, 'x', sizeof block);
  for (int i = 0; i < 16; ++i) {
    if (write(file, block, sizeof block) != (ssize_t)sizeof block) {
      perror("write");
      return 1;
    }
  }
  close(file);
  close(dir);
  printf("buried a file %ld directories deep\n", depth);
  return 0;
}
