// Echoes its arguments, two environment variables and stdin, to check what a step is given.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) printf("arg%d=%s\n", i, argv[i]);
  const char* names[] = {"COLOR", "HOME"};
  for (int i = 0; i < 2; i++) {
    const char* value = getenv(names[i]);
    printf("%s=%s\n", names[i], value ? value : "(unset)");
  }
  char buffer[256];
  size_t n = fread(buffer, 1, sizeof buffer - 1, stdin);
  buffer[n] = 0;
  printf("stdin=%s\n", buffer);
  return 0;
}
