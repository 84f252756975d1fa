// Never ends on its own: only the wall-clock timeout stops it.
int main(void) {
  volatile unsigned long counter = 0;
  for (;;) counter++;
}
