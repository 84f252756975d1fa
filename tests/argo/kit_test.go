package argo

// The module kit (examples/<name>, contrib/<name>) the way a user ships it: each module is
// pushed with the plugin's own `push` to a docker-registry on loopback, its workflow.yaml is
// planned like the controller does, the module is named by OCI reference, and Argo's agent runs
// every step against a plugin server whose artifact repository is versitygw (S3) on loopback.
// The outputs are checked with independent decoders: zbarimg for the QR code, Go's image
// decoders for the processed images, exact text for jq and yq.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	wffake "github.com/argoproj/argo-workflows/v4/pkg/client/clientset/versioned/fake"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
	"github.com/argoproj/argo-workflows/v4/workflow/templateresolution"
	"github.com/argoproj/argo-workflows/v4/workflow/validate"
)

const (
	kitBucket    = "kit-artifacts"
	kitAccessKey = "kit-access"
	kitSecretKey = "kit-secret-key"
)

// kitModules are the modules under test: the name of the .wasm in WWP_MODULE_DIR and of the
// repository it is pushed to.
var kitModules = []string{"ferris-says", "text2qr", "image-processor", "http-request", "jq", "yq"}

// ---- real peers on loopback: docker-registry and versitygw ----------------------------------

type childProcess struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

func startChild(t *testing.T, log string, name string, args ...string) *childProcess {
	t.Helper()
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	c := &childProcess{cmd: exec.Command(name, args...), log: log, exited: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = f, f
	if err := c.cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		c.cmd.Wait()
		f.Close()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.exited
		if t.Failed() {
			t.Logf("%s log:\n%s", name, tail(log, 40))
		}
	})
	return c
}

// waitPort waits until host accepts TCP connections (or the child exits).
func (c *childProcess) waitPort(t *testing.T, host string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.exited:
			t.Fatalf("%s exited:\n%s", c.cmd.Path, tail(c.log, 40))
		default:
		}
		if conn, err := net.DialTimeout("tcp", host, time.Second); err == nil {
			conn.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s:\n%s", c.cmd.Path, host, tail(c.log, 40))
}

func startRegistry(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	config := filepath.Join(dir, "config.yml")
	writeFile(t, config, "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"+
		"storage:\n  filesystem:\n    rootdirectory: "+filepath.Join(dir, "storage")+"\n"+
		"http:\n  addr: "+host+"\n  secret: wwp-kit-test\n")
	startChild(t, filepath.Join(dir, "registry.log"), "docker-registry", "serve", config).waitPort(t, host)
	return host
}

// startS3 runs versitygw's posix backend: a bucket is a directory and an object is a file, so
// the test puts inputs and reads outputs on disk. Returns the endpoint and the bucket directory.
func startS3(t *testing.T) (string, string) {
	t.Helper()
	binary := os.Getenv("WWP_VERSITYGW")
	if binary == "" {
		binary = filepath.Join(os.Getenv("HOME"), "go/bin/versitygw")
	}
	root := filepath.Join(t.TempDir(), "s3")
	bucket := filepath.Join(root, kitBucket)
	if err := os.MkdirAll(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startChild(t, filepath.Join(t.TempDir(), "versitygw.log"), binary, "--access", kitAccessKey,
		"--secret", kitSecretKey, "--port", host, "--quiet", "posix", root).waitPort(t, host)
	return host, bucket
}

// ---- the controller's part for one template of a kit workflow.yaml ---------------------------

// planKitTask resolves template `name` of the workflow in `file` with `params` (over the
// workflow's arguments, like `argo submit -p`) and `artifacts` (S3 keys, as the controller
// passes an earlier step's outputs), and points its module at the OCI reference `ref`.
func planKitTask(t *testing.T, file, name string, meta workflowMeta, params map[string]string,
	artifacts map[string]string, ref string) wfv1.Template {
	t.Helper()
	ctx := logging.WithLogger(context.Background(), logging.NewSlogLoggerCustom(logging.Error, logging.Text, io.Discard))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var wf wfv1.Workflow
	if err := yaml.UnmarshalStrict(data, &wf); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	wf.Name, wf.Namespace, wf.UID = meta.Name, meta.Namespace, types.UID(meta.UID)
	tmpl := wf.GetTemplateByName(name)
	if tmpl == nil || tmpl.Plugin == nil {
		t.Fatalf("%s: no plugin template %q", file, name)
	}
	var plugin map[string]map[string]any
	if err := json.Unmarshal(tmpl.Plugin.Value, &plugin); err != nil {
		t.Fatal(err)
	}
	plugin["wasm"]["module"] = map[string]any{"oci": ref}
	raw, err := json.Marshal(plugin)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.Plugin.Value = raw

	var args wfv1.Arguments
	for _, p := range wf.Spec.Arguments.Parameters {
		if _, declared := findInput(tmpl, p.Name); declared {
			args.Parameters = append(args.Parameters, p)
		}
	}
	for k, v := range params {
		if _, declared := findInput(tmpl, k); !declared {
			t.Fatalf("%s: template %s has no input parameter %q", file, name, k)
		}
		set := false
		for i := range args.Parameters {
			if args.Parameters[i].Name == k {
				args.Parameters[i].Value = wfv1.AnyStringPtr(v)
				set = true
			}
		}
		if !set {
			args.Parameters = append(args.Parameters, wfv1.Parameter{Name: k, Value: wfv1.AnyStringPtr(v)})
		}
	}
	for artifact, key := range artifacts {
		args.Artifacts = append(args.Artifacts, wfv1.Artifact{Name: artifact,
			ArtifactLocation: wfv1.ArtifactLocation{S3: &wfv1.S3Artifact{Key: key}}})
	}
	// An input artifact with a location in the workflow (the image-processor's http example)
	// would go to the internet; the test supplies every required input itself.
	for i := range tmpl.Inputs.Artifacts {
		if _, given := artifacts[tmpl.Inputs.Artifacts[i].Name]; !given {
			tmpl.Inputs.Artifacts[i].ArtifactLocation = wfv1.ArtifactLocation{}
		}
	}
	processed, err := common.ProcessArgs(ctx, tmpl, &args, globalParams(&wf), common.Parameters{"node.name": meta.Name},
		false, meta.Namespace, nil)
	if err != nil {
		t.Fatalf("%s: substituting %s: %v", file, name, err)
	}
	return *processed
}

func findInput(tmpl *wfv1.Template, name string) (wfv1.Parameter, bool) {
	for _, p := range tmpl.Inputs.Parameters {
		if p.Name == name {
			return p, true
		}
	}
	return wfv1.Parameter{}, false
}

// outputArtifactFile is where versitygw stored output artifact `name` of node n.
func outputArtifactFile(t *testing.T, bucketDir, id string, n wfv1.NodeResult, name string) string {
	t.Helper()
	if n.Outputs != nil {
		for _, a := range n.Outputs.Artifacts {
			if a.Name == name && a.S3 != nil {
				return filepath.Join(bucketDir, filepath.FromSlash(a.S3.Key))
			}
		}
	}
	t.Fatalf("node %s: no S3 output artifact %q (outputs %s)", id, name, wfv1.MustMarshallJSON(n.Outputs))
	return ""
}

func decodeImage(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: not a decodable image: %v", path, err)
	}
	if format != "png" {
		t.Errorf("%s: format %s, want png", path, format)
	}
	return img
}

// testPicture is a w x h PNG with a colour gradient (so desaturation shows).
func testPicture(t *testing.T, path string, w, h int, c color.RGBA) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{R: uint8(x * 255 / w), G: c.G, B: uint8(y * 255 / h), A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.String())
}

// allowOnly replaces a plugin template's permissions.http.allowed_hosts (the example lists a
// public host; the test's server is on loopback).
func allowOnly(t *testing.T, tmpl *wfv1.Template, host string) {
	t.Helper()
	var plugin map[string]map[string]any
	if err := json.Unmarshal(tmpl.Plugin.Value, &plugin); err != nil {
		t.Fatal(err)
	}
	plugin["wasm"]["permissions"] = map[string]any{"http": map[string]any{"allowed_hosts": []string{host}}}
	raw, err := json.Marshal(plugin)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.Plugin.Value = raw
}

func TestKitModulesByOCIReference(t *testing.T) {
	f := newFixture(t, wasmPluginName)
	for _, m := range kitModules {
		if _, err := os.Stat(filepath.Join(f.bin.moduleDir, m+".wasm")); err != nil {
			t.Fatalf("WWP_MODULE_DIR: %v (the build makes it: examples/ and contrib/)", err)
		}
	}
	zbarimg, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Fatal("zbarimg not found (Debian package zbar-tools; scripts/setup.sh installs it)")
	}
	registry := startRegistry(t)
	s3, bucketDir := startS3(t)

	// Publish every module with the plugin's own CLI, as docs/module-development.md says.
	home := t.TempDir()
	refs := map[string]string{}
	for _, m := range kitModules {
		refs[m] = fmt.Sprintf("%s/kit/%s:1.0.0", registry, m)
		cmd := exec.Command(f.bin.path, "push", filepath.Join(f.bin.moduleDir, m+".wasm"), refs[m],
			"--insecure-oci-registries", registry, "--fs-cache-dir", filepath.Join(home, "push-cache"))
		cmd.Env = append(os.Environ(), "HOME="+home)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("push %s: %v\n%s", m, err, out)
		}
	}

	repo := filepath.Join(t.TempDir(), "artifact-repository.yaml")
	writeFile(t, repo, fmt.Sprintf("s3:\n  endpoint: %s\n  bucket: %s\n  insecure: true\n"+
		"  keyFormat: \"{{workflow.name}}/{{pod.name}}\"\n", s3, kitBucket))
	t.Setenv("AWS_ACCESS_KEY_ID", kitAccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", kitSecretKey)
	srv := f.startWasmPlugin(t, "--insecure-oci-registries", registry, "--artifact-repository", repo)

	// Inputs in the bucket, as earlier steps would have left them.
	testPicture(t, filepath.Join(bucketDir, "inputs/photo.png"), 64, 32, color.RGBA{G: 200})
	testPicture(t, filepath.Join(bucketDir, "inputs/mark.png"), 8, 8, color.RGBA{G: 0})
	writeFile(t, filepath.Join(bucketDir, "inputs/doc.json"), `{"items": [{"n": 1}, {"n": 2}], "name": "kit"}`)
	writeFile(t, filepath.Join(bucketDir, "inputs/doc.yaml"), "items:\n  - n: 1\n  - n: 2\nname: kit\n")
	writeFile(t, filepath.Join(bucketDir, "inputs/program.jq"), "[.items[].n] | add")
	writeFile(t, filepath.Join(bucketDir, "inputs/expression.yq"), ".items[1].n")

	meta := newWorkflowMeta("kit-")
	const qrText = "Hello World from WebAssembly: https://argoproj.github.io/?q=wasm&x=1"
	const ferrisText = "Hello World from WebAssembly"
	examples := func(name string) string { return filepath.Join("../../examples", name, "workflow.yaml") }
	contrib := func(name string) string { return filepath.Join("../../contrib", name, "workflow.yaml") }
	tasks := map[string]wfv1.Template{
		"ferris": planKitTask(t, examples("ferris-says"), "ferris-says", meta, map[string]string{"text": ferrisText}, nil, refs["ferris-says"]),
		"qr":     planKitTask(t, examples("text2qr"), "text2qr", meta, map[string]string{"text": qrText}, nil, refs["text2qr"]),
		"rotate": planKitTask(t, examples("image-processor"), "image-processor", meta, map[string]string{"effect": "rotate"},
			map[string]string{"input": "inputs/photo.png"}, refs["image-processor"]),
		"gray": planKitTask(t, examples("image-processor"), "image-processor", meta, map[string]string{"effect": "desaturate"},
			map[string]string{"input": "inputs/photo.png", "watermark": "inputs/mark.png"}, refs["image-processor"]),
		"bad-effect": planKitTask(t, examples("image-processor"), "image-processor", meta, map[string]string{"effect": "sepia"},
			map[string]string{"input": "inputs/photo.png"}, refs["image-processor"]),
		"qr-too-long": planKitTask(t, examples("text2qr"), "text2qr", meta, map[string]string{"text": strings.Repeat("a", 3000)}, nil, refs["text2qr"]),
		"not-an-image": planKitTask(t, examples("image-processor"), "image-processor", meta, map[string]string{"effect": "blur"},
			map[string]string{"input": "inputs/doc.json"}, refs["image-processor"]),
		"jq":      planKitTask(t, contrib("jq"), "jq", meta, nil, nil, refs["jq"]),
		"jq-doc":  planKitTask(t, contrib("jq"), "jq-document-artifact", meta, map[string]string{"expression": ".items | length"}, map[string]string{"document": "inputs/doc.json"}, refs["jq"]),
		"jq-file": planKitTask(t, contrib("jq"), "jq-artifacts", meta, nil, map[string]string{"expression": "inputs/program.jq", "document": "inputs/doc.json"}, refs["jq"]),
		"yq":      planKitTask(t, contrib("yq"), "yq", meta, map[string]string{"expression": ".a.b", "document": "a:\n  b:\n    - x\n    - y\n"}, nil, refs["yq"]),
		"yq-doc":  planKitTask(t, contrib("yq"), "yq-document-artifact", meta, map[string]string{"expression": ".name"}, map[string]string{"document": "inputs/doc.yaml"}, refs["yq"]),
		"yq-file": planKitTask(t, contrib("yq"), "yq-artifacts", meta, nil, map[string]string{"expression": "inputs/expression.yq", "document": "inputs/doc.yaml"}, refs["yq"]),
	}
	// http-request reaches a loopback server it is allowed to, and is refused another one.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"method":%q,"received":%q}`, r.Method, body)
	}))
	defer api.Close()
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	httpTask := planKitTask(t, examples("http-request"), "http-request", meta,
		map[string]string{"url": api.URL + "/items", "method": "POST", "body": "wasm"}, nil, refs["http-request"])
	allowOnly(t, &httpTask, api.URL)
	tasks["http"] = httpTask
	refusedTask := planKitTask(t, examples("http-request"), "http-request", meta,
		map[string]string{"url": other.URL + "/"}, nil, refs["http-request"])
	allowOnly(t, &refusedTask, api.URL)
	tasks["http-refused"] = refusedTask

	// A cold start compiles every module once (yq is 28 MB); later runs load the cache.
	res := runAgent(t, meta, agentPlugins(t, f.varRunArgo, []string{srv.address}, []string{wasmPluginName}), tasks, 10*time.Minute)

	n := expectNode(t, res, "http", wfv1.NodeSucceeded)
	for name, want := range map[string]string{"status_code": "201", "content_type": "application/json",
		"body": `{"method":"POST","received":"wasm"}`} {
		if got, _ := outputParameter(n, name); got != want {
			t.Errorf("http-request: output parameter %s = %q, want %q", name, got, want)
		}
	}
	n = expectNode(t, res, "http-refused", wfv1.NodeFailed)
	if !strings.Contains(n.Message, "destination not allowed (error 7)") || !strings.Contains(n.Message, "allowed_hosts") {
		t.Errorf("http-request to a host not on the list: message %q does not say it was refused", n.Message)
	}

	n = expectNode(t, res, "ferris", wfv1.NodeSucceeded)
	if text, _ := outputParameter(n, "text"); !strings.Contains(text, ferrisText) || !strings.Contains(text, "_~^~^~_") ||
		!strings.Contains(text, `\) /  o o  \ (/`) {
		t.Errorf("ferris: output parameter text is not Ferris saying %q:\n%s", ferrisText, text)
	}

	n = expectNode(t, res, "qr", wfv1.NodeSucceeded)
	qr := outputArtifactFile(t, bucketDir, "qr", n, "qrcode")
	decoded, err := exec.Command(zbarimg, "--quiet", "--raw", qr).Output()
	if err != nil {
		t.Errorf("zbarimg %s: %v", qr, err)
	} else if got := strings.TrimSuffix(string(decoded), "\n"); got != qrText {
		t.Errorf("the QR code decodes to %q, want %q", got, qrText)
	}

	n = expectNode(t, res, "rotate", wfv1.NodeSucceeded)
	if b := decodeImage(t, outputArtifactFile(t, bucketDir, "rotate", n, "output")).Bounds(); b.Dx() != 32 || b.Dy() != 64 {
		t.Errorf("rotate: output is %dx%d, want 32x64 (width and height swapped)", b.Dx(), b.Dy())
	}
	expectParameter(t, "rotate", n, "size", "32x64")
	n = expectNode(t, res, "gray", wfv1.NodeSucceeded)
	gray := decodeImage(t, outputArtifactFile(t, bucketDir, "gray", n, "output"))
	if b := gray.Bounds(); b.Dx() != 64 || b.Dy() != 32 {
		t.Errorf("desaturate: output is %dx%d, want 64x32", b.Dx(), b.Dy())
	}
	// Away from the watermark every pixel is grey; in its corner (8x8, bottom right) it is not.
	if r, g, b, _ := gray.At(10, 10).RGBA(); r != g || g != b {
		t.Errorf("desaturate: pixel (10,10) is not grey: %d %d %d", r, g, b)
	}
	if r, g, b, _ := gray.At(63, 31).RGBA(); r == g && g == b {
		t.Errorf("desaturate: the watermark's corner (63,31) is grey (%d %d %d): no watermark drawn", r, g, b)
	}
	n = expectNode(t, res, "bad-effect", wfv1.NodeFailed)
	if !strings.Contains(n.Message, `unknown effect "sepia"`) {
		t.Errorf("bad-effect: message %q does not name the unknown effect", n.Message)
	}

	// Bad input fails the step with a message that names the problem.
	n = expectNode(t, res, "qr-too-long", wfv1.NodeFailed)
	if !strings.Contains(n.Message, "3000 bytes; a QR code holds at most 2953") {
		t.Errorf("qr-too-long: message %q does not give the limit", n.Message)
	}
	n = expectNode(t, res, "not-an-image", wfv1.NodeFailed)
	if !strings.Contains(n.Message, "input artifact input: not a JPEG or PNG image") {
		t.Errorf("not-an-image: message %q does not name the bad artifact", n.Message)
	}

	exact := func(id, want string) {
		t.Helper()
		n := expectNode(t, res, id, wfv1.NodeSucceeded)
		if n.Outputs == nil || n.Outputs.Result == nil || *n.Outputs.Result != want {
			var got *string
			if n.Outputs != nil {
				got = n.Outputs.Result
			}
			t.Errorf("%s: outputs.result %s, want %q", id, strPtr(got), want)
		}
	}
	exact("jq", `"Hello World from WebAssembly"`)
	exact("jq-doc", "2")
	exact("jq-file", "3")
	exact("yq", "- x\n- y")
	exact("yq-doc", "kit")
	exact("yq-file", "2")
}

// TestKitWorkflowsAreValidArgo holds every workflow.yaml of the kit (templates, examples,
// contrib) to what TestExampleWorkflowsAreValidArgo holds examples/workflows to: Argo's strict
// decoding and submit validation, and plugin.wasm blocks the plugin accepts.
func TestKitWorkflowsAreValidArgo(t *testing.T) {
	ctx := logging.WithLogger(context.Background(), logging.NewSlogLoggerCustom(logging.Error, logging.Text, os.Stderr))
	client := wffake.NewSimpleClientset()
	wftmpls := templateresolution.WrapWorkflowTemplateInterface(client.ArgoprojV1alpha1().WorkflowTemplates(namespace))
	cwftmpls := templateresolution.WrapClusterWorkflowTemplateInterface(client.ArgoprojV1alpha1().ClusterWorkflowTemplates())
	var files []string
	for _, pattern := range []string{"../../templates/*/workflow.yaml", "../../examples/*/workflow.yaml", "../../contrib/*/workflow.yaml"} {
		found, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, found...)
	}
	if len(files) < 3+3+2 {
		t.Fatalf("found only %v", files)
	}
	for _, file := range files {
		t.Run(strings.TrimPrefix(file, "../../"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var wf wfv1.Workflow
			if err := yaml.UnmarshalStrict(data, &wf); err != nil {
				t.Fatalf("not a valid Argo Workflow: %v", err)
			}
			if wf.GenerateName == "" {
				t.Error("metadata.generateName is empty (workflows are meant for `argo submit`)")
			}
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
				if raw, ok := keys["wasm"]; ok {
					found++
					for _, problem := range checkWasmBlock(raw, tmpl) {
						t.Errorf("template %s: plugin.wasm.%s", tmpl.Name, problem)
					}
				}
			}
			if found == 0 {
				t.Error("no template with a plugin.wasm block")
			}
		})
	}
}
