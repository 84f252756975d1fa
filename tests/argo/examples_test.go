package argo

// Keeps examples/workflows valid for Argo: each *.yaml is a Workflow that decodes strictly into
// Argo's own types and passes Argo's own validation (what `argo lint` and the API server's
// submit run), and every `plugin.wasm` block has the shape the plugin accepts. The
// ExecutorPlugin manifest must turn into the ConfigMap that `argo executor-plugin build` makes.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	wffake "github.com/argoproj/argo-workflows/v4/pkg/client/clientset/versioned/fake"
	"github.com/argoproj/argo-workflows/v4/pkg/plugins/spec"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
	"github.com/argoproj/argo-workflows/v4/workflow/templateresolution"
	plugin "github.com/argoproj/argo-workflows/v4/workflow/util/plugins"
	"github.com/argoproj/argo-workflows/v4/workflow/validate"
)

func exampleFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no workflows in %s", examplesDir)
	}
	return files
}

func TestExampleWorkflowsAreValidArgo(t *testing.T) {
	ctx := logging.WithLogger(context.Background(), logging.NewSlogLoggerCustom(logging.Error, logging.Text, os.Stderr))
	client := wffake.NewSimpleClientset()
	wftmpls := templateresolution.WrapWorkflowTemplateInterface(client.ArgoprojV1alpha1().WorkflowTemplates(namespace))
	cwftmpls := templateresolution.WrapClusterWorkflowTemplateInterface(client.ArgoprojV1alpha1().ClusterWorkflowTemplates())
	wasmTemplates := 0
	for _, file := range exampleFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var wf wfv1.Workflow
			// Strict: unknown or duplicate fields anywhere in Argo's schema are errors.
			if err := yaml.UnmarshalStrict(data, &wf); err != nil {
				t.Fatalf("not a valid Argo Workflow: %v", err)
			}
			if wf.APIVersion != "argoproj.io/v1alpha1" || wf.Kind != "Workflow" {
				t.Errorf("apiVersion/kind %s/%s, want argoproj.io/v1alpha1/Workflow", wf.APIVersion, wf.Kind)
			}
			if wf.GenerateName == "" {
				t.Error("metadata.generateName is empty (examples are meant for `argo submit`)")
			}
			// What the API server runs on submit (it names the workflow first).
			wf.Name = wf.GenerateName + "abcde"
			if err := validate.ValidateWorkflow(ctx, wftmpls, cwftmpls, &wf, nil, validate.ValidateOpts{Submit: true}); err != nil {
				t.Errorf("Argo's validation: %v", err)
			}
			found := 0
			for _, tmpl := range wf.Spec.Templates {
				if tmpl.Plugin == nil {
					continue
				}
				var keys map[string]json.RawMessage
				if err := json.Unmarshal(tmpl.Plugin.Value, &keys); err != nil {
					t.Fatalf("template %s: plugin: %v", tmpl.Name, err)
				}
				raw, ok := keys["wasm"]
				if !ok {
					continue
				}
				found++
				for _, problem := range checkWasmBlock(raw, tmpl) {
					t.Errorf("template %s: plugin.wasm.%s", tmpl.Name, problem)
				}
			}
			if found == 0 {
				t.Error("no template with a plugin.wasm block")
			}
			wasmTemplates += found
		})
	}
	t.Logf("%d plugin.wasm templates checked", wasmTemplates)
}

var (
	sha256Hex   = regexp.MustCompile(`^(sha256:)?[0-9a-f]{64}$`)
	placeholder = regexp.MustCompile(`{{\s*([^}]+?)\s*}}`)
	duration    = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`)
	quantity    = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$`)
)

// checkWasmBlock checks a plugin.wasm block against the plugin's template format
// (src/model/template.cpp): a module given by exactly one of path, url (with sha256) or oci;
// string args and env; known limits; inputs that the block references exist.
func checkWasmBlock(raw json.RawMessage, tmpl wfv1.Template) []string {
	var problems []string
	var wasm map[string]any
	if err := json.Unmarshal(raw, &wasm); err != nil || wasm == nil {
		return []string{fmt.Sprintf(": expected an object (%v)", err)}
	}
	module, ok := wasm["module"].(map[string]any)
	if !ok {
		problems = append(problems, "module: expected an object such as {path: greet.wasm}")
	} else {
		kinds := 0
		for _, key := range []string{"path", "url", "oci"} {
			if v, present := module[key]; present {
				kinds++
				if s, ok := v.(string); !ok || s == "" {
					problems = append(problems, "module."+key+": expected a non-empty string")
				}
			}
		}
		if kinds != 1 {
			problems = append(problems, "module: needs exactly one of path, url or oci")
		}
		if _, isURL := module["url"]; isURL {
			if s, _ := module["sha256"].(string); !sha256Hex.MatchString(s) {
				problems = append(problems, "module.sha256: required with url (64 lowercase hex digits)")
			}
		}
		if p, ok := module["pullPolicy"]; ok && p != "Always" && p != "IfNotPresent" {
			problems = append(problems, "module.pullPolicy: expected Always or IfNotPresent")
		}
		for key := range module {
			switch key {
			case "path", "url", "oci", "sha256", "pullPolicy":
			default:
				problems = append(problems, "module."+key+": unknown key")
			}
		}
	}
	var texts []string
	if args, present := wasm["args"]; present {
		list, ok := args.([]any)
		if !ok {
			problems = append(problems, "args: expected a list of strings")
		}
		for i, a := range list {
			s, ok := a.(string)
			if !ok {
				problems = append(problems, fmt.Sprintf("args[%d]: expected a string (quote numbers)", i))
			}
			texts = append(texts, s)
		}
	}
	if env, present := wasm["env"]; present {
		m, ok := env.(map[string]any)
		if !ok {
			problems = append(problems, "env: expected a map of strings")
		}
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				problems = append(problems, "env."+k+": expected a string")
			}
			texts = append(texts, s)
		}
	}
	if stdin, present := wasm["stdin"]; present {
		s, ok := stdin.(string)
		if !ok {
			problems = append(problems, "stdin: expected a string")
		}
		texts = append(texts, s)
	}
	if p, present := wasm["permissions"]; present {
		if _, ok := p.(map[string]any); !ok {
			problems = append(problems, "permissions: expected an object")
		}
	}
	if l, present := wasm["limits"]; present {
		limits, ok := l.(map[string]any)
		if !ok {
			problems = append(problems, "limits: expected an object")
		}
		for key, v := range limits {
			s, _ := v.(string)
			switch key {
			case "timeout":
				if !duration.MatchString(s) {
					problems = append(problems, fmt.Sprintf("limits.timeout: %v is not a duration such as 30s", v))
				}
			case "memory":
				if !quantity.MatchString(s) {
					problems = append(problems, fmt.Sprintf("limits.memory: %v is not a quantity such as 64Mi", v))
				}
			default:
				problems = append(problems, "limits."+key+": unknown limit (known: timeout, memory)")
			}
		}
	}
	// Placeholders must name the template's inputs or workflow globals, which Argo's controller
	// substitutes before the plugin sees the template.
	inputs := map[string]bool{}
	for _, p := range tmpl.Inputs.Parameters {
		inputs[p.Name] = true
	}
	for _, text := range texts {
		for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
			expr := m[1]
			switch {
			case strings.HasPrefix(expr, "inputs.parameters."):
				if !inputs[strings.TrimPrefix(expr, "inputs.parameters.")] {
					problems = append(problems, fmt.Sprintf("args/env/stdin: %s: the template has no such input", m[0]))
				}
			case strings.HasPrefix(expr, "workflow."):
			default:
				problems = append(problems, fmt.Sprintf("args/env/stdin: %s: only inputs.parameters.* and workflow.* are available", m[0]))
			}
		}
	}
	return problems
}

// TestExecutorPluginManifest builds the ConfigMap from plugin.yaml with Argo's own code, the way
// `argo executor-plugin build` does, checks that the controller would accept it, and that the
// committed wasm-executor-plugin-configmap.yaml is exactly that build's output
// (WWP_UPDATE_CONFIGMAP=1 rewrites it).
func TestExecutorPluginManifest(t *testing.T) {
	dir := filepath.Join(examplesDir, "plugin")
	data, err := os.ReadFile(filepath.Join(dir, "plugin.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var p spec.Plugin
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		t.Fatalf("not a valid ExecutorPlugin: %v", err)
	}
	if servers, _ := filepath.Glob(filepath.Join(dir, "server.*")); len(servers) > 0 {
		t.Errorf("%v: `argo executor-plugin build` would replace the container args with that file", servers)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("argo executor-plugin build would fail: %v", err)
	}
	if p.APIVersion != "argoproj.io/v1alpha1" || p.Kind != common.LabelValueTypeConfigMapExecutorPlugin {
		t.Errorf("apiVersion/kind %s/%s", p.APIVersion, p.Kind)
	}
	cm, err := plugin.ToConfigMap(&p)
	if err != nil {
		t.Fatalf("argo executor-plugin build would fail: %v", err)
	}
	if cm.Name != "wasm-executor-plugin" || cm.Labels[common.LabelKeyConfigMapType] != "ExecutorPlugin" {
		t.Errorf("ConfigMap %s labels %v", cm.Name, cm.Labels)
	}
	built, err := yaml.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	built = append([]byte("# This is an auto-generated file. DO NOT EDIT\n"), built...)
	cmPath := filepath.Join(dir, cm.Name+"-configmap.yaml")
	if os.Getenv("WWP_UPDATE_CONFIGMAP") == "1" {
		if err := os.WriteFile(cmPath, built, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(cmPath)
	if err != nil {
		t.Fatalf("%v (WWP_UPDATE_CONFIGMAP=1 writes it)", err)
	}
	if !bytes.Equal(committed, built) {
		t.Errorf("%s differs from what `argo executor-plugin build` makes of plugin.yaml (WWP_UPDATE_CONFIGMAP=1 rewrites it):\n%s",
			cmPath, built)
	}

	back, err := plugin.FromConfigMap(cm)
	if err != nil {
		t.Fatalf("the controller would reject the ConfigMap: %v", err)
	}
	c := back.Spec.Sidecar.Container
	if c.Name != wasmPluginName {
		t.Errorf("container name %q: the harness uses %q as the plugin name", c.Name, wasmPluginName)
	}
	args := strings.Join(c.Args, " ")
	port := fmt.Sprintf("--port=%d", c.Ports[0].ContainerPort)
	for _, want := range []string{"serve", port, "--token-file=/var/run/argo/token"} {
		if !strings.Contains(args, want) {
			t.Errorf("container args %q lack %q (the agent calls http://localhost:<first containerPort> with the token "+
				"mounted at /var/run/argo/token)", args, want)
		}
	}
	if back.Spec.Sidecar.AutomountServiceAccountToken {
		t.Error("the plugin needs no service account token")
	}
}
