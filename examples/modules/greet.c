// The bundled demo module: a plain WASI program. Argo passes `args`; stdout becomes the step's
// `outputs.result`.
#include <stdio.h>

int main(int argc, char** argv) {
  const char* who = argc > 1 ? argv[1] : "world";
  printf("Hello, %s!\n", who);
  return 0;
}
