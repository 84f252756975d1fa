// Tries to leave its sandbox: reads host files by absolute and relative paths and plants a
// symlink that points outside, which the plugin must not follow when it reads outputs.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static void try_open(const char* path) {
  int fd = open(path, O_RDONLY);
  printf("%s: %s\n", path, fd >= 0 ? "OPENED" : "denied");
  if (fd >= 0) close(fd);
}

int main(void) {
  try_open("/etc/passwd");
  try_open("../../../../etc/passwd");
  try_open("/work/../../etc/hostname");
  int linked = symlink("/etc/passwd", "/tmp/leak.txt");
  int linked_up = symlink("../../../../../../etc/passwd", "/tmp/leak2.txt");
  printf("symlinks: %d %d\n", linked, linked_up);
  return 0;
}
