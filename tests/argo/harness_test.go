package argo

// The harness: the plugin binary as a child process, Argo's agent wired the way
// `argoexec agent init` + `argoexec agent main` wire it, fake API servers, the workflow
// controller's part (templates with parameters substituted, the WorkflowTaskSet), and a
// recorder of the HTTP traffic between agent and plugin.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/watch"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	wffake "github.com/argoproj/argo-workflows/v4/pkg/client/clientset/versioned/fake"
	executorplugins "github.com/argoproj/argo-workflows/v4/pkg/plugins/executor"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/util/template"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
	"github.com/argoproj/argo-workflows/v4/workflow/executor"
	"github.com/argoproj/argo-workflows/v4/workflow/executor/plugins/rpc"
)

const (
	// The sidecar container name of examples/workflows/plugin/wasm-executor-plugin.yaml: the
	// controller passes container names to the agent as plugin names (ARGO_PLUGIN_NAMES).
	wasmPluginName = "wasm-executor-plugin"
	namespace      = "argo"
	examplesDir    = "../../examples/workflows"
)

// traffic is the process-wide recorder installed as http.DefaultTransport: Argo's plugin RPC
// client uses an http.Client without a Transport, so every agent call passes through it while
// still going straight to the server (no proxy in between).
var traffic = newRecorder(http.DefaultTransport)

func TestMain(m *testing.M) {
	http.DefaultTransport = traffic
	// The controller sets ARGO_AGENT_PATCH_RATE on the agent pod (default 10s, its requeue
	// time); a shorter rate only makes the tests faster. ARGO_AGENT_TASK_WORKERS stays unset:
	// the agent's default of 16 workers is part of what is tested.
	if os.Getenv(common.EnvAgentPatchRate) == "" {
		os.Setenv(common.EnvAgentPatchRate, "1s")
	}
	os.Exit(m.Run())
}

// ---- the plugin binary ----------------------------------------------------------------------

type pluginBinary struct {
	path      string
	moduleDir string
}

// requireBinary returns the binary under test, or skips when WWP_PLUGIN_BINARY is unset.
func requireBinary(t *testing.T) pluginBinary {
	t.Helper()
	bin := os.Getenv("WWP_PLUGIN_BINARY")
	if bin == "" {
		t.Skip("WWP_PLUGIN_BINARY is not set (path of build/wasm-workflows-plugin)")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatalf("WWP_PLUGIN_BINARY: %v", err)
	}
	modules := os.Getenv("WWP_MODULE_DIR")
	if modules == "" {
		t.Fatal("WWP_MODULE_DIR is not set (the build's modules directory, e.g. build/modules)")
	}
	modules, err = filepath.Abs(modules)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"greet.wasm", "exit3.wasm", "sleep.wasm", "legacy_echo.wasm"} {
		if _, err := os.Stat(filepath.Join(modules, m)); err != nil {
			t.Fatalf("WWP_MODULE_DIR: %v", err)
		}
	}
	return pluginBinary{path: abs, moduleDir: modules}
}

type pluginServer struct {
	address string // http://127.0.0.1:PORT, what ARGO_PLUGIN_ADDRESSES carries
	host    string // 127.0.0.1:PORT, the key of its traffic
	cmd     *exec.Cmd
	log     string
	exited  chan struct{}
	waitErr error
	started time.Time
}

// calls returns the agent's calls to this server (a later server may reuse the port).
func (s *pluginServer) calls() []call {
	var out []call
	for _, c := range traffic.callsTo(s.host) {
		if !c.Start.Before(s.started) {
			out = append(out, c)
		}
	}
	return out
}

// startServer runs `serve` on a free loopback port with the given token file and extra flags,
// waits until it accepts calls, and stops it (SIGTERM) when the test ends.
func startServer(t *testing.T, bin pluginBinary, tokenFile string, extra ...string) *pluginServer {
	t.Helper()
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		host := fmt.Sprintf("127.0.0.1:%d", port)
		s := &pluginServer{address: "http://" + host, host: host, log: filepath.Join(dir, fmt.Sprintf("server-%d.log", attempt)),
			exited: make(chan struct{}), started: time.Now()}
		args := append([]string{"serve", "--bind", "127.0.0.1", "--port", fmt.Sprint(port),
			"--module-dir", bin.moduleDir, "--fs-cache-dir", filepath.Join(dir, "cache"), "--token-file", tokenFile}, extra...)
		logFile, err := os.Create(s.log)
		if err != nil {
			t.Fatal(err)
		}
		s.cmd = exec.Command(bin.path, args...)
		s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
		s.cmd.Env = append(os.Environ(), "HOME="+dir)
		if err := s.cmd.Start(); err != nil {
			logFile.Close()
			t.Fatalf("starting %s: %v", bin.path, err)
		}
		go func() {
			s.waitErr = s.cmd.Wait()
			logFile.Close()
			close(s.exited)
		}()
		if lastErr = s.waitReady(60 * time.Second); lastErr == nil {
			t.Logf("plugin server %s: %s", s.address, strings.Join(args, " "))
			t.Cleanup(func() { s.stop(t) })
			return s
		}
		s.kill()
		t.Logf("plugin server did not start (attempt %d): %v\n%s", attempt+1, lastErr, tail(s.log, 40))
	}
	t.Fatalf("plugin server did not start: %v", lastErr)
	return nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitReady waits for the port to accept connections and for GET /readyz to stop saying 503
// (a server without /readyz counts as ready once it accepts connections).
func (s *pluginServer) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{}}
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("exited: %v", s.waitErr)
		default:
		}
		resp, err := client.Get(s.address + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s", limit)
}

func (s *pluginServer) kill() {
	if s.cmd.Process != nil {
		s.cmd.Process.Kill()
	}
	<-s.exited
}

func (s *pluginServer) stop(t *testing.T) {
	select {
	case <-s.exited:
		t.Errorf("plugin server %s exited during the test: %v\n%s", s.address, s.waitErr, tail(s.log, 60))
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if s.waitErr != nil {
			t.Logf("plugin server %s after SIGTERM: %v", s.address, s.waitErr)
		}
	case <-time.After(40 * time.Second):
		t.Errorf("plugin server %s did not stop within 40s of SIGTERM", s.address)
		s.kill()
	}
	if t.Failed() {
		t.Logf("plugin server %s log:\n%s", s.address, tail(s.log, 150))
	}
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return tailText(string(data), lines)
}

// tailText is the last `lines` lines of `text`, saying how many came before.
func tailText(text string, lines int) string {
	all := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(all) > lines {
		all = append([]string{fmt.Sprintf("... (%d lines before)", len(all)-lines)}, all[len(all)-lines:]...)
	}
	return strings.Join(all, "\n")
}

// ---- the agent pod: `argoexec agent init` and `argoexec agent main` -------------------------

// agentInit does what `argoexec agent init` does (cmd/argoexec/commands/agent.go): one random
// token per plugin in <varRunArgo>/<plugin name>/token. The controller mounts that directory
// into the plugin's sidecar with subPath <plugin name>, so the sidecar reads the same file as
// /var/run/argo/token; here the server's --token-file points at it directly.
func agentInit(t *testing.T, varRunArgo string, names []string) {
	t.Helper()
	for _, name := range names {
		filename := tokenFilename(varRunArgo, name)
		if err := os.Mkdir(filepath.Dir(filename), 0o770); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filename, []byte(rand.String(32)), 0o440); err != nil {
			t.Fatal(err)
		}
	}
}

func tokenFilename(varRunArgo, name string) string { return filepath.Join(varRunArgo, name, "token") }

// agentPlugins builds the plugin list the way initAgentExecutor does: names and addresses come
// as JSON lists (env ARGO_PLUGIN_NAMES / ARGO_PLUGIN_ADDRESSES, written by the controller with
// wfv1.MustMarshallJSON), each plugin's token is read from its token file, and each plugin is
// Argo's RPC client rpc.New(address, token).
func agentPlugins(t *testing.T, varRunArgo string, addresses, names []string) []executorplugins.TemplateExecutor {
	t.Helper()
	env := map[string]string{
		common.EnvVarPluginAddresses: wfv1.MustMarshallJSON(addresses),
		common.EnvVarPluginNames:     wfv1.MustMarshallJSON(names),
	}
	var parsedAddresses, parsedNames []string
	if err := json.Unmarshal([]byte(env[common.EnvVarPluginAddresses]), &parsedAddresses); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(env[common.EnvVarPluginNames]), &parsedNames); err != nil {
		t.Fatal(err)
	}
	var plugins []executorplugins.TemplateExecutor
	for i, address := range parsedAddresses {
		data, err := os.ReadFile(tokenFilename(varRunArgo, parsedNames[i]))
		if err != nil {
			t.Fatalf("failed to read token file: %v", err)
		}
		plugins = append(plugins, rpc.New(address, string(data)))
	}
	return plugins
}

// workflowMeta is what the controller gives the agent pod (ARGO_WORKFLOW_NAME / _UID) plus the
// namespace the agent runs in.
type workflowMeta struct {
	Name, Namespace, UID string
}

func newWorkflowMeta(prefix string) workflowMeta {
	return workflowMeta{Name: prefix + rand.String(5), Namespace: namespace, UID: string(uuid.NewUUID())}
}

type agentResult struct {
	Nodes   map[string]wfv1.NodeResult
	History map[string][]wfv1.NodePhase // the phases patched for each node, in order
	Elapsed time.Duration
	Log     *syncBuffer
}

// runAgent creates the WorkflowTaskSet with `tasks` (node ID -> template), runs Argo's
// AgentExecutor until every node has a completed phase in the TaskSet status, then deletes
// the TaskSet, which is how the agent learns it is done.
func runAgent(t *testing.T, meta workflowMeta, plugins []executorplugins.TemplateExecutor,
	tasks map[string]wfv1.Template, limit time.Duration) agentResult {
	t.Helper()
	logBuf := &syncBuffer{}
	ctx, cancel := context.WithCancel(logging.WithLogger(context.Background(),
		logging.NewSlogLoggerCustom(logging.Debug, logging.Text, logBuf)))
	defer cancel()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("agent log (%s):\n%s", meta.Name, logBuf.Tail(200))
		}
	})

	kube := kubefake.NewSimpleClientset()
	wf := wffake.NewSimpleClientset()
	gvr := schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflowtasksets"}

	// The fake API server sends no ADDED event for objects created before a watch opens (a real
	// one would list them first), so the TaskSet is created only once the agent watches.
	watching := make(chan struct{})
	var watchOnce sync.Once
	wf.PrependWatchReactor("workflowtasksets", func(action k8stesting.Action) (bool, watch.Interface, error) {
		w, err := wf.Tracker().Watch(gvr, action.GetNamespace())
		watchOnce.Do(func() { close(watching) })
		return true, w, err
	})
	var historyMu sync.Mutex
	history := map[string][]wfv1.NodePhase{}
	var problems []string
	wf.PrependReactor("patch", "workflowtasksets", func(action k8stesting.Action) (bool, runtime.Object, error) {
		patch := action.(k8stesting.PatchAction)
		historyMu.Lock()
		defer historyMu.Unlock()
		if patch.GetSubresource() != "status" || patch.GetPatchType() != types.MergePatchType {
			problems = append(problems, fmt.Sprintf("agent patched %q subresource %q with %s; expected a merge patch of status",
				patch.GetName(), patch.GetSubresource(), patch.GetPatchType()))
		}
		var body struct {
			Status wfv1.WorkflowTaskSetStatus `json:"status"`
		}
		if err := json.Unmarshal(patch.GetPatch(), &body); err != nil {
			problems = append(problems, fmt.Sprintf("agent patch is not a TaskSet status: %v", err))
		}
		ids := make([]string, 0, len(body.Status.Nodes))
		for id := range body.Status.Nodes {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			history[id] = append(history[id], body.Status.Nodes[id].Phase)
		}
		return false, nil, nil // the default reactor applies it
	})

	// NewAgentExecutor builds its Argo clientset from the rest config; the fake replaces it.
	agent := executor.NewAgentExecutor(kube, nil, &rest.Config{Host: "http://127.0.0.1:1"},
		meta.Namespace, meta.Name, meta.UID, plugins)
	agent.WorkflowInterface = wf

	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- agent.Agent(ctx) }()
	select {
	case <-watching:
	case err := <-done:
		t.Fatalf("agent stopped before watching: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not watch WorkflowTaskSets within 30s")
	}

	taskSets := wf.ArgoprojV1alpha1().WorkflowTaskSets(meta.Namespace)
	_, err := taskSets.Create(ctx, &wfv1.WorkflowTaskSet{
		ObjectMeta: metav1.ObjectMeta{Name: meta.Name, Namespace: meta.Namespace},
		Spec:       wfv1.WorkflowTaskSetSpec{Tasks: tasks},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	var nodes map[string]wfv1.NodeResult
	deadline := time.Now().Add(limit)
	for {
		ts, err := taskSets.Get(ctx, meta.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		nodes = ts.Status.Nodes
		completed := 0
		for id := range tasks {
			if n, ok := nodes[id]; ok && n.Phase.Completed() {
				completed++
			}
		}
		if completed == len(tasks) {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("agent stopped with %d of %d nodes completed: %v", completed, len(tasks), err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d of %d nodes completed; status: %s", limit, completed, len(tasks), wfv1.MustMarshallJSON(nodes))
		}
		time.Sleep(200 * time.Millisecond)
	}
	elapsed := time.Since(start)

	if err := taskSets.Delete(ctx, meta.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("agent returned %v after the TaskSet was deleted", err)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("agent did not stop within 30s of the TaskSet's deletion")
	}
	historyMu.Lock()
	defer historyMu.Unlock()
	for _, p := range problems {
		t.Error(p)
	}
	historyCopy := map[string][]wfv1.NodePhase{}
	for id, phases := range history {
		historyCopy[id] = append([]wfv1.NodePhase(nil), phases...)
	}
	return agentResult{Nodes: nodes, History: historyCopy, Elapsed: elapsed, Log: logBuf}
}

// ---- the controller's part: workflows, arguments, substitution -------------------------------

func loadWorkflow(t *testing.T, file string) *wfv1.Workflow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examplesDir, file))
	if err != nil {
		t.Fatal(err)
	}
	var wf wfv1.Workflow
	if err := yaml.UnmarshalStrict(data, &wf); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return &wf
}

// planTasks does the controller's work for the plugin steps of `file`, run as workflow `meta`
// with `overrides` for its arguments (like `argo submit -p name=value`): it resolves each
// plugin template reachable from the entrypoint (the entrypoint itself, or a step of a steps
// entrypoint), substitutes parameters with Argo's own common.ProcessArgs (defaults, arguments,
// then util/template over globals, locals and inputs), and names each node.
func planTasks(t *testing.T, file string, meta workflowMeta, overrides map[string]string, nodePrefix string) map[string]wfv1.Template {
	t.Helper()
	ctx := logging.WithLogger(context.Background(), logging.NewSlogLoggerCustom(logging.Error, logging.Text, io.Discard))
	wf := loadWorkflow(t, file)
	wf.Name, wf.Namespace, wf.UID = meta.Name, meta.Namespace, types.UID(meta.UID)
	for name, value := range overrides {
		found := false
		for i := range wf.Spec.Arguments.Parameters {
			if wf.Spec.Arguments.Parameters[i].Name == name {
				wf.Spec.Arguments.Parameters[i].Value = wfv1.AnyStringPtr(value)
				found = true
			}
		}
		if !found {
			t.Fatalf("%s has no argument %q", file, name)
		}
	}
	globals := globalParams(wf)
	entry := wf.GetTemplateByName(wf.Spec.Entrypoint)
	if entry == nil {
		t.Fatalf("%s: no entrypoint template %q", file, wf.Spec.Entrypoint)
	}
	tasks := map[string]wfv1.Template{}
	process := func(nodeName string, tmpl *wfv1.Template, args wfv1.Arguments, locals common.Parameters) {
		if tmpl.Plugin == nil {
			t.Fatalf("%s: template %q is not a plugin template", file, tmpl.Name)
		}
		processed, err := common.ProcessArgs(ctx, tmpl, &args, globals, locals, false, meta.Namespace, nil)
		if err != nil {
			t.Fatalf("%s: substituting %s: %v", file, tmpl.Name, err)
		}
		tasks[nodePrefix+nodeName] = *processed
	}
	switch {
	case entry.Plugin != nil:
		process(meta.Name, entry, wf.Spec.Arguments, common.Parameters{"node.name": meta.Name})
	case entry.Steps != nil:
		for i, group := range entry.Steps {
			for _, step := range group.Steps {
				tmpl := wf.GetTemplateByName(step.Template)
				if tmpl == nil {
					t.Fatalf("%s: step %s names no template", file, step.Name)
				}
				// The controller substitutes a step's arguments in the scope of the steps
				// template (globals here; these examples reference no earlier step).
				raw, _ := json.Marshal(step.Arguments)
				replaced, err := template.Replace(ctx, string(raw), globals, true)
				if err != nil {
					t.Fatal(err)
				}
				var args wfv1.Arguments
				if err := json.Unmarshal([]byte(replaced), &args); err != nil {
					t.Fatal(err)
				}
				nodeName := fmt.Sprintf("%s[%d].%s", meta.Name, i, step.Name)
				process(nodeName, tmpl, args, common.Parameters{"steps.name": step.Name, "node.name": nodeName})
			}
		}
	default:
		t.Fatalf("%s: the harness runs plugin or steps entrypoints, not %s", file, entry.GetType())
	}
	return tasks
}

// globalParams mirrors the controller's setGlobalParameters for what these examples can use.
func globalParams(wf *wfv1.Workflow) common.Parameters {
	g := common.Parameters{
		common.GlobalVarWorkflowName:               wf.Name,
		common.GlobalVarWorkflowNamespace:          wf.Namespace,
		common.GlobalVarWorkflowUID:                string(wf.UID),
		common.GlobalVarWorkflowMainEntrypoint:     wf.Spec.Entrypoint,
		common.GlobalVarWorkflowServiceAccountName: wf.Spec.ServiceAccountName,
		common.GlobalVarWorkflowCreationTimestamp:  time.Now().UTC().Format(time.RFC3339),
	}
	if params, err := json.Marshal(wf.Spec.Arguments.Parameters); err == nil {
		g[common.GlobalVarWorkflowParameters] = string(params)
		g[common.GlobalVarWorkflowParametersJSON] = string(params)
	}
	for _, p := range wf.Spec.Arguments.Parameters {
		if p.Value != nil {
			g["workflow.parameters."+p.Name] = p.Value.String()
		}
	}
	return g
}

func onlyTask(t *testing.T, tasks map[string]wfv1.Template) (string, wfv1.Template) {
	t.Helper()
	if len(tasks) != 1 {
		t.Fatalf("expected one task, got %d", len(tasks))
	}
	for id, tmpl := range tasks {
		return id, tmpl
	}
	panic("unreachable")
}

// ---- the traffic recorder --------------------------------------------------------------------

type call struct {
	Host         string
	Path         string
	Auth         string
	Request      []byte
	Status       int
	Response     []byte
	Err          error
	Start, End   time.Time
	TemplateName string
}

func (c call) reply() executorplugins.ExecuteTemplateReply {
	var r executorplugins.ExecuteTemplateReply
	_ = json.Unmarshal(c.Response, &r)
	return r
}

func (c call) template() wfv1.Template {
	var args executorplugins.ExecuteTemplateArgs
	_ = json.Unmarshal(c.Request, &args)
	if args.Template == nil {
		return wfv1.Template{}
	}
	return *args.Template
}

type recorder struct {
	base     http.RoundTripper
	mu       sync.Mutex
	calls    []call
	inFlight map[string]int
	maxIn    map[string]int
}

func newRecorder(base http.RoundTripper) *recorder {
	return &recorder{base: base, inFlight: map[string]int{}, maxIn: map[string]int{}}
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	c := call{Host: req.URL.Host, Path: req.URL.Path, Auth: req.Header.Get("Authorization"), Start: time.Now()}
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		c.Request = body
		req.Body = io.NopCloser(bytes.NewReader(body))
		c.TemplateName = c.template().Name
	}
	r.mu.Lock()
	r.inFlight[c.Host]++
	if r.inFlight[c.Host] > r.maxIn[c.Host] {
		r.maxIn[c.Host] = r.inFlight[c.Host]
	}
	r.mu.Unlock()

	resp, err := r.base.RoundTrip(req)
	if err == nil {
		c.Status = resp.StatusCode
		var body []byte
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		c.Response = body
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			resp = nil
		}
	}
	c.Err = err
	c.End = time.Now()
	r.mu.Lock()
	r.inFlight[c.Host]--
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	return resp, err
}

func (r *recorder) callsTo(host string) []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []call
	for _, c := range r.calls {
		if c.Host == host {
			out = append(out, c)
		}
	}
	return out
}

func (r *recorder) maxInFlight(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxIn[host]
}

func describeCalls(calls []call) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "  %s %s tmpl=%s status=%d err=%v %.1fs reply=%s\n", c.Start.Format("15:04:05.000"), c.Path,
			c.TemplateName, c.Status, c.Err, c.End.Sub(c.Start).Seconds(), truncate(string(c.Response), 300))
	}
	return b.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// ---- small helpers ---------------------------------------------------------------------------

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Tail(lines int) string {
	var all []string
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		all = append(all, sc.Text())
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
