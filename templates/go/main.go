// A module on the earlier plugin's ABI: reads input parameter `name`, sets output parameter
// `greeting`. Replace the body of the function given to wwp.Run with your own logic.
package main

import (
	"errors"
	"fmt"

	wwp "github.com/wasm-workflows-plugin/sdk/go"
)

func main() {
	wwp.Run(func(in *wwp.Invocation, out *wwp.Output) error {
		name, _ := in.Param("name")
		if name == "" {
			return errors.New("input parameter name is missing or empty")
		}
		greeting := fmt.Sprintf("Hello, %s!", name)
		fmt.Println(greeting) // stdout is the step's log (and outputs.result)
		out.SetParam("greeting", greeting)
		return nil
	})
}
