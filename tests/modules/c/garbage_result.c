// An earlier-ABI module that writes a result.json that is not JSON.
#include <stdio.h>

int main(void) {
  FILE* f = fopen("/work/result.json", "w");
  if (f == NULL) return 2;
  fputs("{\"phase\": \"Succeeded\", \"outputs\": [oops", f);
  fclose(f);
  return 0;
}
