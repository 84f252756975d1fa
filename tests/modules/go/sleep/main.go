// Sleeps for the number of seconds given as its first argument, then prints "slept": a step
// that outlives the agent's 30 s HTTP timeout.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	seconds := 1.0
	if len(os.Args) > 1 {
		parsed, err := strconv.ParseFloat(os.Args[1], 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "usage: sleep SECONDS")
			os.Exit(2)
		}
		seconds = parsed
	}
	time.Sleep(time.Duration(seconds * float64(time.Second)))
	fmt.Println("slept")
}
