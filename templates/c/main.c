/* A module on the earlier plugin's ABI: reads input parameter `name`, sets output parameter
 * `greeting`. Replace the body of step() with your own logic. */
#define WWP_MODULE_IMPLEMENTATION
#include "wwp_module.h"

#include <stdio.h>

static int step(void) {
  const char* name = wwp_param("name");
  if (name == NULL || *name == '\0') {
    wwp_fail("input parameter name is missing or empty");
    return 0;
  }
  char greeting[256];
  snprintf(greeting, sizeof greeting, "Hello, %s!", name);
  printf("%s\n", greeting); /* stdout is the step's log (and outputs.result) */
  return wwp_set_param("greeting", greeting);
}

int main(void) {
  if (wwp_load() != 0) {
    wwp_fail(wwp_error());
  } else if (step() != 0) {
    wwp_fail("out of memory");
  }
  if (wwp_finish() != 0) {
    fprintf(stderr, "%s\n", wwp_error());
    return 1;
  }
  return 0;
}
