// A Go program compiled with GOOS=wasip1: about 2 MB of Wasm, the size that shows what loading a
// precompiled module from the disk cache costs.
package main

import (
	"fmt"
	"os"
)

func main() {
	name := "Go"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	fmt.Printf("Hello from %s\n", name)
}
