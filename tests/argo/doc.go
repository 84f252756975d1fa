// Package argo proves that wasm-workflows-plugin works with Argo Workflows' own agent code.
//
// The tests in this directory run Argo's real AgentExecutor (workflow/executor/agent.go of
// github.com/argoproj/argo-workflows/v4) with Argo's real executor-plugin RPC client
// (workflow/executor/plugins/rpc) against the real plugin binary on a loopback port. Fake
// Kubernetes and Argo clientsets stand in for the API server: the tests create the
// WorkflowTaskSet that the workflow controller would create, from the templates of
// examples/workflows/*.yaml with parameters substituted by Argo's own code, and read the node
// results the agent patches into its status.
//
// Run from this directory:
//
//	WWP_PLUGIN_BINARY=../../build/wasm-workflows-plugin WWP_MODULE_DIR=../../build/modules \
//	GOFLAGS=-mod=mod go test -count=1 -timeout 15m ./...
//
// Without WWP_PLUGIN_BINARY only the example-manifest checks run. See docs/argo-compatibility.md.
package argo
