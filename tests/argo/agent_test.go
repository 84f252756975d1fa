package argo

// Argo's agent against the plugin binary: one test per behaviour of issue 5. Each test runs its
// own plugin server (the flags differ) and its own agent for one workflow.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	executorplugins "github.com/argoproj/argo-workflows/v4/pkg/plugins/executor"
)

const executePath = "/api/v1/template.execute"

// fixture: the agent pod's token directory with one token per plugin name.
type fixture struct {
	bin        pluginBinary
	varRunArgo string
}

func newFixture(t *testing.T, pluginNames ...string) fixture {
	bin := requireBinary(t)
	f := fixture{bin: bin, varRunArgo: filepath.Join(t.TempDir(), "var-run-argo")}
	if err := os.Mkdir(f.varRunArgo, 0o770); err != nil {
		t.Fatal(err)
	}
	agentInit(t, f.varRunArgo, pluginNames)
	return f
}

func (f fixture) token(t *testing.T, name string) string {
	data, err := os.ReadFile(tokenFilename(f.varRunArgo, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// startWasmPlugin starts the plugin with the token the agent holds for it.
func (f fixture) startWasmPlugin(t *testing.T, extra ...string) *pluginServer {
	return startServer(t, f.bin, tokenFilename(f.varRunArgo, wasmPluginName), extra...)
}

func expectNode(t *testing.T, res agentResult, id string, phase wfv1.NodePhase) wfv1.NodeResult {
	t.Helper()
	n, ok := res.Nodes[id]
	if !ok {
		t.Fatalf("node %s has no result", id)
	}
	if n.Phase != phase {
		t.Errorf("node %s: phase %s, want %s (message %q)", id, n.Phase, phase, n.Message)
	}
	return n
}

func expectResult(t *testing.T, id string, n wfv1.NodeResult, result, exitCode string) {
	t.Helper()
	if n.Outputs == nil {
		t.Errorf("node %s: no outputs, want result %q exitCode %q", id, result, exitCode)
		return
	}
	if n.Outputs.Result == nil || *n.Outputs.Result != result {
		t.Errorf("node %s: outputs.result %s, want %q", id, strPtr(n.Outputs.Result), result)
	}
	if n.Outputs.ExitCode == nil || *n.Outputs.ExitCode != exitCode {
		t.Errorf("node %s: outputs.exitCode %s, want %q", id, strPtr(n.Outputs.ExitCode), exitCode)
	}
}

func strPtr(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%q", *s)
}

func outputParameter(n wfv1.NodeResult, name string) (string, bool) {
	if n.Outputs == nil {
		return "", false
	}
	for _, p := range n.Outputs.Parameters {
		if p.Name == name {
			if p.Value == nil {
				return "", true
			}
			return p.Value.String(), true
		}
	}
	return "", false
}

func expectParameter(t *testing.T, id string, n wfv1.NodeResult, name, want string) {
	t.Helper()
	got, ok := outputParameter(n, name)
	if !ok {
		t.Errorf("node %s: no output parameter %q (outputs %s)", id, name, wfv1.MustMarshallJSON(n.Outputs))
	} else if got != want {
		t.Errorf("node %s: output parameter %s = %q, want %q", id, name, got, want)
	}
}

func wasmArgs(t *testing.T, tmpl wfv1.Template) []string {
	t.Helper()
	var plugin struct {
		Wasm struct {
			Args []string `json:"args"`
		} `json:"wasm"`
	}
	if err := json.Unmarshal(tmpl.Plugin.Value, &plugin); err != nil {
		t.Fatal(err)
	}
	return plugin.Wasm.Args
}

// TestAgentRunsExampleWorkflows runs the plugin steps of the example workflows in one agent:
// a succeeding module, a failing one, the earlier ABI (succeeding and failing on request), and
// a workflow that mixes a Wasm step with another plugin's step while no other plugin is
// installed.
func TestAgentRunsExampleWorkflows(t *testing.T) {
	f := newFixture(t, wasmPluginName)
	t.Parallel()
	srv := f.startWasmPlugin(t, "--requeue-wait", "2s", "--requeue-after", "1s")
	meta := newWorkflowMeta("wasm-examples-")

	tasks := map[string]wfv1.Template{}
	add := func(planned map[string]wfv1.Template) {
		for id, tmpl := range planned {
			tasks[id] = tmpl
		}
	}
	add(planTasks(t, "hello.yaml", meta, nil, "hello/"))
	add(planTasks(t, "failing.yaml", meta, nil, "failing/"))
	add(planTasks(t, "legacy-abi.yaml", meta, nil, "legacy/"))
	add(planTasks(t, "legacy-abi.yaml", meta, map[string]string{"fail": "yes", "message": "bye"}, "legacy-fail/"))
	add(planTasks(t, "other-plugin.yaml", meta, nil, "other/"))

	helloID := "hello/" + meta.Name
	if got := wasmArgs(t, tasks[helloID]); len(got) != 1 || got[0] != "Argo" {
		t.Fatalf("Argo's substitution gave args %q, want [Argo]", got)
	}

	plugins := agentPlugins(t, f.varRunArgo, []string{srv.address}, []string{wasmPluginName})
	res := runAgent(t, meta, plugins, tasks, 3*time.Minute)
	calls := srv.calls()
	t.Logf("calls:\n%s", describeCalls(calls))

	t.Run("succeeding module", func(t *testing.T) {
		n := expectNode(t, res, helloID, wfv1.NodeSucceeded)
		expectResult(t, helloID, n, "Hello, Argo!", "0")
	})

	t.Run("failing module", func(t *testing.T) {
		id := "failing/" + meta.Name
		n := expectNode(t, res, id, wfv1.NodeFailed)
		expectResult(t, id, n, "partial output", "3")
		for _, want := range []string{"exit code 3", "error: the input is not valid"} {
			if !strings.Contains(n.Message, want) {
				t.Errorf("message %q does not contain %q", n.Message, want)
			}
		}
	})

	t.Run("earlier ABI", func(t *testing.T) {
		id := "legacy/" + meta.Name
		n := expectNode(t, res, id, wfv1.NodeSucceeded)
		if n.Message != "echoed 3 parameters" {
			t.Errorf("message %q, want %q", n.Message, "echoed 3 parameters")
		}
		expectParameter(t, id, n, "message", "hello from Argo")
		expectParameter(t, id, n, "count", "3") // the input's default
		expectParameter(t, id, n, "fail", "no")
		expectParameter(t, id, n, "workflow", meta.Name)
		expectParameter(t, id, n, "options", `[{"name":"greeting","value":"hi"}]`)
		expectResult(t, id, n, "done", "0")
	})

	t.Run("earlier ABI failing on request", func(t *testing.T) {
		id := "legacy-fail/" + meta.Name
		n := expectNode(t, res, id, wfv1.NodeFailed)
		if !strings.Contains(n.Message, "asked to fail") {
			t.Errorf("message %q does not contain %q", n.Message, "asked to fail")
		}
	})

	t.Run("another plugin's template", func(t *testing.T) {
		wasmID := "other/" + meta.Name + "[0].wasm"
		n := expectNode(t, res, wasmID, wfv1.NodeSucceeded)
		expectResult(t, wasmID, n, "Hello, plugins!", "0")
		// Our plugin answers {} and no other plugin is installed: the agent fails the node
		// with its own message.
		helloStep := "other/" + meta.Name + "[1].hello"
		n = expectNode(t, res, helloStep, wfv1.NodeFailed)
		if n.Message != "no plugin executed the template" {
			t.Errorf("message %q, want the agent's %q", n.Message, "no plugin executed the template")
		}
		found := false
		for _, c := range calls {
			if c.TemplateName == "hello" {
				found = true
				if c.Status != http.StatusOK || strings.TrimSpace(string(c.Response)) != "{}" {
					t.Errorf("reply to another plugin's template: %d %q, want 200 {}", c.Status, c.Response)
				}
			}
		}
		if !found {
			t.Error("the agent did not offer the hello template to the wasm plugin")
		}
	})

	t.Run("calls", func(t *testing.T) {
		token := f.token(t, wasmPluginName)
		for _, c := range calls {
			if c.Path != executePath {
				t.Errorf("agent called %s", c.Path)
			}
			if c.Auth != "Bearer "+token {
				t.Errorf("agent sent Authorization %q", c.Auth)
			}
			var args executorplugins.ExecuteTemplateArgs
			if err := json.Unmarshal(c.Request, &args); err != nil {
				t.Fatal(err)
			}
			m := args.Workflow.ObjectMeta
			if m.Name != meta.Name || m.Namespace != meta.Namespace || m.UID != meta.UID {
				t.Errorf("agent sent workflow metadata %+v, want %+v", m, meta)
			}
			if c.Status != http.StatusOK {
				t.Errorf("call for %s answered %d %s", c.TemplateName, c.Status, c.Response)
			}
		}
		// One final answer per task; before it, only Running with a requeue (a step may wait
		// behind a module's first compilation for longer than --requeue-wait).
		final := 0
		for _, c := range calls {
			r := c.reply()
			switch {
			case r.Node == nil:
				final++ // {} for the other plugin's template
			case r.Node.Phase == wfv1.NodeRunning:
				if r.GetRequeue() <= 0 {
					t.Errorf("Running without requeue for %s: the agent would never call again", c.TemplateName)
				}
			default:
				final++
			}
		}
		if final != len(tasks) {
			t.Errorf("%d final answers for %d tasks", final, len(tasks))
		}
	})
}

// helloPlugin is the `hello` executor plugin of Argo's executor-plugin guide, in Go: it checks
// the bearer token, runs templates with plugin.hello and answers {} to others.
func helloPlugin(t *testing.T, token string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if r.URL.Path != executePath {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		var args struct {
			Template struct {
				Plugin map[string]json.RawMessage `json:"plugin"`
			} `json:"template"`
		}
		if err := json.NewDecoder(r.Body).Decode(&args); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if _, ok := args.Template.Plugin["hello"]; ok {
			io.WriteString(w, `{"node":{"phase":"Succeeded","message":"Hello template!","outputs":{"parameters":[{"name":"foo","value":"bar"}]}}}`)
			return
		}
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestAgentWithAnotherPlugin installs a second plugin after ours, as a cluster with two
// ExecutorPlugins has: our {} reply makes the agent go on to the hello plugin.
func TestAgentWithAnotherPlugin(t *testing.T) {
	const helloName = "hello-executor-plugin"
	f := newFixture(t, wasmPluginName, helloName)
	t.Parallel()
	srv := f.startWasmPlugin(t)
	hello := helloPlugin(t, f.token(t, helloName))
	meta := newWorkflowMeta("wasm-other-plugin-")
	tasks := planTasks(t, "other-plugin.yaml", meta, nil, "")
	plugins := agentPlugins(t, f.varRunArgo, []string{srv.address, hello.URL}, []string{wasmPluginName, helloName})
	res := runAgent(t, meta, plugins, tasks, 2*time.Minute)

	wasmID := meta.Name + "[0].wasm"
	n := expectNode(t, res, wasmID, wfv1.NodeSucceeded)
	expectResult(t, wasmID, n, "Hello, plugins!", "0")
	helloID := meta.Name + "[1].hello"
	n = expectNode(t, res, helloID, wfv1.NodeSucceeded)
	if n.Message != "Hello template!" {
		t.Errorf("hello step message %q", n.Message)
	}
	expectParameter(t, helloID, n, "foo", "bar")

	ours := srv.calls()
	theirs := traffic.callsTo(strings.TrimPrefix(hello.URL, "http://"))
	t.Logf("wasm plugin calls:\n%shello plugin calls:\n%s", describeCalls(ours), describeCalls(theirs))
	// The agent stops at the first plugin that returns a node: the hello plugin never sees
	// the Wasm step.
	for _, c := range theirs {
		if c.TemplateName != "hello" {
			t.Errorf("the hello plugin was asked to run %q", c.TemplateName)
		}
	}
	if len(ours) != 2 || len(theirs) != 1 {
		t.Errorf("%d calls to the wasm plugin (want 2), %d to the hello plugin (want 1)", len(ours), len(theirs))
	}
}

// TestAgentWrongToken: a plugin that holds another token than the agent's answers 403; the
// agent does not retry and fails the node with the status and body.
func TestAgentWrongToken(t *testing.T) {
	f := newFixture(t, wasmPluginName)
	t.Parallel()
	otherToken := filepath.Join(t.TempDir(), "token")
	writeFile(t, otherToken, "not-the-agents-token-0123456789ab")
	srv := startServer(t, f.bin, otherToken)
	meta := newWorkflowMeta("wasm-wrong-token-")
	tasks := planTasks(t, "hello.yaml", meta, nil, "")
	id, _ := onlyTask(t, tasks)
	plugins := agentPlugins(t, f.varRunArgo, []string{srv.address}, []string{wasmPluginName})
	res := runAgent(t, meta, plugins, tasks, time.Minute)

	n := expectNode(t, res, id, wfv1.NodeFailed)
	t.Logf("node message: %q", n.Message)
	if !strings.HasPrefix(n.Message, "403 Forbidden: ") {
		t.Errorf("message %q, want the agent's \"403 Forbidden: <body>\"", n.Message)
	}
	calls := srv.calls()
	if len(calls) != 1 || calls[0].Status != http.StatusForbidden {
		t.Errorf("want exactly one call answered 403, got:\n%s", describeCalls(calls))
	}
}

// postDirect calls the plugin outside the agent (to compile modules ahead of a timing test).
func postDirect(t *testing.T, srv *pluginServer, token string, meta workflowMeta, tmpl wfv1.Template) {
	t.Helper()
	body := wfv1.MustMarshallJSON(executorplugins.ExecuteTemplateArgs{
		Workflow: &executorplugins.Workflow{ObjectMeta: executorplugins.ObjectMeta{Name: meta.Name, Namespace: meta.Namespace, UID: meta.UID}},
		Template: &tmpl,
	})
	req, _ := http.NewRequest(http.MethodPost, srv.address+executePath, bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("warm-up call: %d %s", resp.StatusCode, data)
	}
}

// TestAgentRetriesWhenOverloaded: with one step at a time and one waiting, the plugin answers
// 503 to the rest; the agent's RPC client treats 503 as transient and retries with backoff
// (1s, 2s, 4s, 8s) until the plugin accepts, so every node still succeeds.
func TestAgentRetriesWhenOverloaded(t *testing.T) {
	f := newFixture(t, wasmPluginName)
	t.Parallel()
	srv := f.startWasmPlugin(t, "--max-concurrency", "1", "--queue-capacity", "1")
	meta := newWorkflowMeta("wasm-overload-")

	// Compile the module first so that the timing below is the steps' own.
	warm := newWorkflowMeta("warm-up-")
	_, sleepTmpl := onlyTask(t, planTasks(t, "long-step.yaml", warm, map[string]string{"seconds": "0"}, ""))
	postDirect(t, srv, f.token(t, wasmPluginName), warm, sleepTmpl)

	// Six sleeping steps arrive in one burst at a plugin that runs one step and queues one: at
	// least four are turned away with 503 whatever order they arrive in. (Instant steps would
	// drain the queue faster than the burst arrives.) The agent's retries (after about 1, 3, 7
	// and 15 s) find room once the earlier steps are done.
	tasks := map[string]wfv1.Template{}
	for i := 0; i < 6; i++ {
		name := fmt.Sprintf("overload-%d", i)
		seconds := fmt.Sprintf("0.5%d", i) // distinct templates: six steps, not one
		id, tmpl := onlyTask(t, planTasks(t, "long-step.yaml", meta, map[string]string{"seconds": seconds}, name+"/"))
		tasks[id] = tmpl
	}
	plugins := agentPlugins(t, f.varRunArgo, []string{srv.address}, []string{wasmPluginName})
	res := runAgent(t, meta, plugins, tasks, 3*time.Minute)
	calls := srv.calls()
	t.Logf("agent finished in %s; calls:\n%s", res.Elapsed.Round(time.Millisecond), describeCalls(calls))

	for id := range tasks {
		n := expectNode(t, res, id, wfv1.NodeSucceeded)
		expectResult(t, id, n, "slept", "0")
	}
	unavailable := 0
	for _, c := range calls {
		switch c.Status {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			unavailable++
		default:
			t.Errorf("unexpected status %d: %s", c.Status, c.Response)
		}
	}
	if unavailable == 0 {
		t.Error("the plugin never answered 503: the overload was not exercised")
	}
	attempts := map[string]int{}
	most := 0
	for _, c := range calls {
		attempts[string(c.Request)]++
		most = max(most, attempts[string(c.Request)])
	}
	t.Logf("%d answers were 503; the most attempts for one node: %d of the agent's 5", unavailable, most)
	if len(calls) != len(tasks)+unavailable {
		t.Errorf("%d calls = %d tasks + %d retries after 503?", len(calls), len(tasks), unavailable)
	}
}

// TestAgentLongStepThroughRequeue: a 35 s step outlives the agent's 30 s HTTP timeout. The
// plugin answers Running with a requeue delay after --requeue-wait (2s); the agent patches
// Running, calls again after the delay, and a later call returns the result.
func TestAgentLongStepThroughRequeue(t *testing.T) {
	f := newFixture(t, wasmPluginName)
	t.Parallel()
	srv := f.startWasmPlugin(t, "--requeue-wait", "2s", "--requeue-after", "1s")
	meta := newWorkflowMeta("wasm-long-step-")
	tasks := planTasks(t, "long-step.yaml", meta, nil, "")
	id, tmpl := onlyTask(t, tasks)
	if got := wasmArgs(t, tmpl); len(got) != 1 || got[0] != "35" {
		t.Fatalf("args %q, want [35]", got)
	}
	plugins := agentPlugins(t, f.varRunArgo, []string{srv.address}, []string{wasmPluginName})
	res := runAgent(t, meta, plugins, tasks, 4*time.Minute)
	calls := srv.calls()
	t.Logf("agent finished in %s; patched phases %v; calls:\n%s", res.Elapsed.Round(time.Millisecond), res.History[id], describeCalls(calls))

	n := expectNode(t, res, id, wfv1.NodeSucceeded)
	expectResult(t, id, n, "slept", "0")
	if res.Elapsed < 35*time.Second {
		t.Errorf("finished after %s, before the module could have slept 35 s", res.Elapsed)
	}
	phases := res.History[id]
	if len(phases) < 2 || phases[0] != wfv1.NodeRunning || phases[len(phases)-1] != wfv1.NodeSucceeded {
		t.Errorf("patched phases %v, want Running ... Succeeded", phases)
	}
	if len(calls) < 2 {
		t.Fatalf("%d calls, want Running replies and a final one", len(calls))
	}
	for i, c := range calls {
		if c.Status != http.StatusOK || c.Err != nil {
			t.Errorf("call %d: status %d err %v", i, c.Status, c.Err)
			continue
		}
		if d := c.End.Sub(c.Start); d > 10*time.Second {
			t.Errorf("call %d took %s: --requeue-wait 2s should answer within seconds", i, d)
		}
		r := c.reply()
		last := i == len(calls)-1
		switch {
		case r.Node == nil:
			t.Errorf("call %d: no node in reply %s", i, c.Response)
		case !last && (r.Node.Phase != wfv1.NodeRunning || r.GetRequeue() <= 0):
			t.Errorf("call %d: phase %s requeue %s, want Running with a requeue", i, r.Node.Phase, r.GetRequeue())
		case last && r.Node.Phase != wfv1.NodeSucceeded:
			t.Errorf("last call: phase %s", r.Node.Phase)
		}
	}
	if r := calls[0].reply(); r.Node != nil && r.GetRequeue() != time.Second {
		t.Errorf("requeue %s, want --requeue-after 1s", r.GetRequeue())
	}
}

// TestAgentSixteenConcurrentTasks: the agent's default 16 workers call the plugin at once;
// with --max-concurrency 16 the 16 steps (3-4.5 s each) run side by side.
func TestAgentSixteenConcurrentTasks(t *testing.T) {
	f := newFixture(t, wasmPluginName)
	t.Parallel()
	srv := f.startWasmPlugin(t, "--max-concurrency", "16")
	warm := newWorkflowMeta("warm-up-")
	_, sleepTmpl := onlyTask(t, planTasks(t, "long-step.yaml", warm, map[string]string{"seconds": "0"}, ""))
	postDirect(t, srv, f.token(t, wasmPluginName), warm, sleepTmpl)

	meta := newWorkflowMeta("wasm-sixteen-")
	tasks := map[string]wfv1.Template{}
	for i := 0; i < 16; i++ {
		// Distinct seconds make distinct templates: the plugin knows a step by workflow uid
		// and template, and these are 16 different steps.
		seconds := fmt.Sprintf("%.1f", 3+0.1*float64(i))
		id, tmpl := onlyTask(t, planTasks(t, "long-step.yaml", meta, map[string]string{"seconds": seconds}, fmt.Sprintf("task-%02d/", i)))
		tasks[id] = tmpl
	}
	plugins := agentPlugins(t, f.varRunArgo, []string{srv.address}, []string{wasmPluginName})
	res := runAgent(t, meta, plugins, tasks, 3*time.Minute)
	calls := srv.calls()
	t.Logf("agent finished in %s; at most %d calls in flight; calls:\n%s", res.Elapsed.Round(time.Millisecond),
		traffic.maxInFlight(srv.host), describeCalls(calls))

	for id := range tasks {
		n := expectNode(t, res, id, wfv1.NodeSucceeded)
		expectResult(t, id, n, "slept", "0")
	}
	if got := traffic.maxInFlight(srv.host); got < 16 {
		t.Errorf("at most %d calls in flight, want 16 (the agent's default workers)", got)
	}
	if len(calls) != 16 {
		t.Errorf("%d calls for 16 tasks", len(calls))
	}
	// One after another they would take about 60 s.
	if res.Elapsed > 30*time.Second {
		t.Errorf("16 steps of 3-4.5 s took %s: they did not run concurrently", res.Elapsed)
	}
}

// TestAgentManyGreetings: 16 different steps and two nodes that repeat the first one's
// template, all at once; every node gets its own step's answer.
func TestAgentManyGreetings(t *testing.T) {
	f := newFixture(t, wasmPluginName)
	t.Parallel()
	srv := f.startWasmPlugin(t)
	meta := newWorkflowMeta("wasm-greetings-")
	tasks := map[string]wfv1.Template{}
	want := map[string]string{}
	for i := 0; i < 18; i++ {
		who := fmt.Sprintf("user-%02d", i%16)
		id, tmpl := onlyTask(t, planTasks(t, "hello.yaml", meta, map[string]string{"who": who}, fmt.Sprintf("node-%02d/", i)))
		tasks[id] = tmpl
		want[id] = "Hello, " + who + "!"
	}
	plugins := agentPlugins(t, f.varRunArgo, []string{srv.address}, []string{wasmPluginName})
	res := runAgent(t, meta, plugins, tasks, 2*time.Minute)
	t.Logf("agent finished in %s; at most %d calls in flight", res.Elapsed.Round(time.Millisecond), traffic.maxInFlight(srv.host))
	for id, result := range want {
		n := expectNode(t, res, id, wfv1.NodeSucceeded)
		expectResult(t, id, n, result, "0")
	}
}
