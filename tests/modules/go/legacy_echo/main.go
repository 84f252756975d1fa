// A module written for the earlier (Rust) implementation's file ABI: it reads
// /work/input.json and answers in /work/result.json. It echoes every input parameter as an
// output parameter, adds the workflow name and the plugin options, and fails on purpose when
// the parameter "fail" is "yes".
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type parameter struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

type invocation struct {
	WorkflowName  string      `json:"workflow_name"`
	PluginOptions []parameter `json:"plugin_options"`
	Parameters    []parameter `json:"parameters"`
}

type result struct {
	Phase   string `json:"phase"`
	Message string `json:"message"`
	Outputs struct {
		Parameters []parameter `json:"parameters"`
		Artifacts  []any       `json:"artifacts"`
	} `json:"outputs"`
}

func main() {
	raw, err := os.ReadFile("/work/input.json")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot read input:", err)
		os.Exit(1)
	}
	var in invocation
	if err := json.Unmarshal(raw, &in); err != nil {
		fmt.Fprintln(os.Stderr, "cannot parse input:", err)
		os.Exit(1)
	}
	out := result{Phase: "Succeeded", Message: fmt.Sprintf("echoed %d parameters", len(in.Parameters))}
	out.Outputs.Artifacts = []any{}
	for _, p := range in.Parameters {
		if p.Name == "fail" && p.Value == "yes" {
			out.Phase = "Failed"
			out.Message = "asked to fail"
		}
		out.Outputs.Parameters = append(out.Outputs.Parameters, p)
	}
	out.Outputs.Parameters = append(out.Outputs.Parameters, parameter{"workflow", in.WorkflowName})
	options, _ := json.Marshal(in.PluginOptions)
	out.Outputs.Parameters = append(out.Outputs.Parameters, parameter{"options", string(options)})
	encoded, _ := json.Marshal(out)
	if err := os.WriteFile("/work/result.json", encoded, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "cannot write result:", err)
		os.Exit(1)
	}
	fmt.Println("done")
}
