module example.com/hello-go

go 1.24

require github.com/wasm-workflows-plugin/sdk/go v0.1.0

// The SDK lives in this repository; point this at your copy if you move the template.
replace github.com/wasm-workflows-plugin/sdk/go => ../../sdk/go
