// Package wwp helps write wasm-workflows-plugin modules in Go (GOOS=wasip1 GOARCH=wasm).
//
// Earlier-ABI steps read /work/input.json and answer in /work/result.json:
//
//	func main() {
//		wwp.Run(func(in *wwp.Invocation, out *wwp.Output) error {
//			name, err := in.RequireParam("name")
//			if err != nil {
//				return err
//			}
//			out.SetParam("greeting", "Hello, "+name)
//			return nil
//		})
//	}
//
// Plain WASI steps use os.Args, os.Getenv and stdin/stdout directly; WriteOutput writes a file
// at a template's declared output path.
package wwp

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Version is the SDK version (sdk/VERSION).
const Version = "0.1.0"

const (
	InputFile       = "/work/input.json"
	ResultFile      = "/work/result.json"
	ArtifactsInDir  = "/work/artifacts-in"
	ArtifactsOutDir = "/work/artifacts-out"
	// MaxInputBytes bounds the input.json the SDK reads.
	MaxInputBytes = 16 << 20
)

// Parameter is a name/value pair of input.json or result.json.
type Parameter struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// ArtifactRef is an input artifact entry of input.json.
type ArtifactRef struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// Invocation is what the plugin wrote to /work/input.json.
type Invocation struct {
	WorkflowName  string        `json:"workflow_name"`
	PluginOptions []Parameter   `json:"plugin_options"`
	Parameters    []Parameter   `json:"parameters"`
	Artifacts     []ArtifactRef `json:"artifacts"`
}

// Load reads /work/input.json.
func Load() (*Invocation, error) {
	f, err := os.Open(InputFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", InputFile, err)
	}
	defer f.Close()
	data := make([]byte, MaxInputBytes+1)
	n, _ := readFull(f, data)
	if n > MaxInputBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", InputFile, MaxInputBytes)
	}
	return Parse(data[:n])
}

func readFull(f *os.File, buf []byte) (int, error) {
	total := 0
	for total < len(buf) {
		n, err := f.Read(buf[total:])
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Parse decodes input.json text.
func Parse(data []byte) (*Invocation, error) {
	var in Invocation
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("input.json: %w", err)
	}
	return &in, nil
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func lookup(list []Parameter, name string) (string, bool) {
	for _, p := range list {
		if p.Name == name {
			return text(p.Value), true
		}
	}
	return "", false
}

// Param returns input parameter name as text (numbers and booleans as JSON).
func (in *Invocation) Param(name string) (string, bool) { return lookup(in.Parameters, name) }

// RequireParam is Param with an error naming the missing parameter.
func (in *Invocation) RequireParam(name string) (string, error) {
	if v, ok := in.Param(name); ok {
		return v, nil
	}
	return "", fmt.Errorf("input parameter %s is missing", name)
}

// Option returns a plugin option: a key of plugin.wasm that the plugin itself does not use.
func (in *Invocation) Option(name string) (string, bool) { return lookup(in.PluginOptions, name) }

// InputArtifact returns where input artifact name is, if the template declares it and it was
// supplied. The plugin places it at the template's declared path and at
// /work/artifacts-in/<name>; input.json carries the latter.
func (in *Invocation) InputArtifact(name string) (string, bool) {
	for _, a := range in.Artifacts {
		if a.Name != name {
			continue
		}
		path := a.Path
		if path == "" {
			path = filepath.Join(ArtifactsInDir, name)
		}
		if _, err := os.Stat(path); err == nil {
			return path, true
		}
	}
	return "", false
}

// RequireInputArtifact is InputArtifact with an error naming the missing artifact.
func (in *Invocation) RequireInputArtifact(name string) (string, error) {
	if p, ok := in.InputArtifact(name); ok {
		return p, nil
	}
	return "", fmt.Errorf("input artifact %s is missing", name)
}

// OutputArtifactPath is where output artifact name is written: /work/artifacts-out/<name>.
func OutputArtifactPath(name string) string { return filepath.Join(ArtifactsOutDir, name) }

// Output is what the module reports in /work/result.json.
type Output struct {
	Phase   string `json:"phase"`
	Message string `json:"message"`
	Outputs struct {
		Parameters []Parameter   `json:"parameters"`
		Artifacts  []ArtifactRef `json:"artifacts"`
	} `json:"outputs"`
}

// NewOutput returns a Succeeded report with no outputs.
func NewOutput() *Output {
	out := &Output{Phase: "Succeeded"}
	out.Outputs.Parameters = []Parameter{}
	out.Outputs.Artifacts = []ArtifactRef{}
	return out
}

// SetParam sets output parameter name, replacing an earlier value.
func (o *Output) SetParam(name, value string) {
	for i := range o.Outputs.Parameters {
		if o.Outputs.Parameters[i].Name == name {
			o.Outputs.Parameters[i].Value = value
			return
		}
	}
	o.Outputs.Parameters = append(o.Outputs.Parameters, Parameter{Name: name, Value: value})
}

// Artifact reports output artifact name and returns where to write it; its directory exists.
func (o *Output) Artifact(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return "", fmt.Errorf("output artifact %q: not usable as a file name", name)
	}
	if err := os.MkdirAll(ArtifactsOutDir, 0o755); err != nil {
		return "", err
	}
	path := OutputArtifactPath(name)
	for _, a := range o.Outputs.Artifacts {
		if a.Name == name {
			return path, nil
		}
	}
	o.Outputs.Artifacts = append(o.Outputs.Artifacts, ArtifactRef{Name: name, Path: path})
	return path, nil
}

// Fail marks the step Failed with message.
func (o *Output) Fail(message string) {
	o.Phase = "Failed"
	o.Message = message
}

// JSON encodes the report.
func (o *Output) JSON() []byte {
	b, _ := json.Marshal(o)
	return b
}

// Write writes /work/result.json.
func (o *Output) Write() error {
	if err := os.WriteFile(ResultFile, o.JSON(), 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %w", ResultFile, err)
	}
	return nil
}

// Run loads the invocation, calls step and writes the result; an error becomes phase Failed
// with its message. Exits 0 once result.json is written (the phase carries the outcome).
func Run(step func(in *Invocation, out *Output) error) {
	out := NewOutput()
	in, err := Load()
	if err == nil {
		err = step(in, out)
	}
	if err != nil {
		out.Fail(err.Error())
	}
	if werr := out.Write(); werr != nil {
		fmt.Fprintln(os.Stderr, werr)
		os.Exit(1)
	}
	os.Exit(0)
}

// WriteOutput writes data to path (a template's outputs.parameters[].valueFrom.path or
// outputs.artifacts[].path), creating its directory. For plain WASI steps.
func WriteOutput(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
