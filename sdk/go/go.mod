module github.com/wasm-workflows-plugin/sdk/go

go 1.24
