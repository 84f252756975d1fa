package argo

// Argo's real workflow-controller v4.0.5 on a real one-node Kubernetes (tests/k8s) runs the
// example workflows with the plugin installed by its Helm chart, first in local mode (steps run in
// the agent pod's sidecar), then in distributed mode (each step a pod on the node). The agent pod
// is the controller's own, run by kubelet; its `argoexec agent` is the stand-in of cmd/argoexec
// (Argo's AgentExecutor). tests/argo/controller_e2e_test.sh sets the cluster up, builds and loads
// the images and renders the chart; without its variables this test is skipped.

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	apiv1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	wfv1 "github.com/argoproj/argo-workflows/v4/pkg/apis/workflow/v1alpha1"
	wfclientset "github.com/argoproj/argo-workflows/v4/pkg/client/clientset/versioned"
)

const (
	e2eNamespace     = "argo" // the controller's, the chart's and the workflows' namespace
	stepPodSelector  = "app.kubernetes.io/managed-by=wasm-workflows-plugin"
	workflowDeadline = 4 * time.Minute
)

type e2eEnv struct {
	kube      *kubernetes.Clientset
	dynamic   dynamic.Interface
	workflows wfclientset.Interface
	work      string // scratch directory of the driver script
	apiURL    string
	nodeName  string
	s3Port    int
	s3Dir     string
}

func TestControllerRunsExamplesInBothModes(t *testing.T) {
	work := os.Getenv("WWP_E2E_WORK")
	if work == "" || os.Getenv("K8S_API_URL") == "" {
		t.Skip("WWP_E2E_WORK or K8S_API_URL is not set (tests/argo/controller_e2e_test.sh sets them)")
	}
	cfg := &rest.Config{Host: os.Getenv("K8S_API_URL"), BearerToken: os.Getenv("K8S_TOKEN"),
		TLSClientConfig: rest.TLSClientConfig{CAFile: os.Getenv("K8S_CA_FILE")}, QPS: 50, Burst: 100}
	env := e2eEnv{
		kube:      kubernetes.NewForConfigOrDie(cfg),
		dynamic:   dynamic.NewForConfigOrDie(cfg),
		workflows: wfclientset.NewForConfigOrDie(cfg),
		work:      work,
		apiURL:    os.Getenv("K8S_API_URL"),
		nodeName:  os.Getenv("K8S_NODE_NAME"),
	}
	env.installArgo(t)
	env.startS3(t)
	env.writeControllerConfig(t)
	env.startController(t)

	for _, mode := range []string{"local", "distributed"} {
		t.Run(mode, func(t *testing.T) {
			env.applyManifests(t, filepath.Join(work, "chart-"+mode+".yaml"))
			// The controller's informer picks the ExecutorPlugin ConfigMap up; the agent pod of
			// the next workflow gets the sidecar as it is now.
			time.Sleep(3 * time.Second)
			pods := env.watchStepPods(t)

			hello := env.runWorkflow(t, "hello.yaml")
			if hello.Status.Phase != wfv1.WorkflowSucceeded {
				t.Fatalf("hello: %s %q", hello.Status.Phase, hello.Status.Message)
			}
			expectNodeResult(t, hello, hello.Name, "Hello, Argo!")

			failing := env.runWorkflow(t, "failing.yaml")
			if failing.Status.Phase != wfv1.WorkflowFailed {
				t.Errorf("failing: %s, want Failed", failing.Status.Phase)
			}
			if n := failing.Status.Nodes.FindByDisplayName(failing.Name); n == nil ||
				!strings.Contains(n.Message, "exit code 3") {
				t.Errorf("failing's node: %+v, want a message with the exit code", n)
			}

			pipeline := env.runWorkflow(t, "pipeline.yaml")
			if pipeline.Status.Phase != wfv1.WorkflowSucceeded {
				t.Fatalf("pipeline: %s %q\n%s", pipeline.Status.Phase, pipeline.Status.Message, describeNodes(pipeline))
			}
			expectNodeResult(t, pipeline, "greet", "Hello, Argo!")
			expectNodeResult(t, pipeline, "greet-again", "Hello, wasm!")
			if got, ok := outputParameter(nodeResult(pipeline, "write"), "greeting"); !ok || got != "wasm" {
				t.Errorf("write's output parameter greeting: %q (found %v), want \"wasm\"\n%s", got, ok, describeNodes(pipeline))
			}
			if got := env.outputArtifactText(t, pipeline, "shout", "shouted"); got != "HELLO, ARGO!" {
				t.Errorf("shout's output artifact holds %q, want %q", got, "HELLO, ARGO!")
			}

			seen := pods.stop()
			wasmSteps := 1 + 1 + 4 // hello, failing, pipeline
			switch mode {
			case "local":
				if len(seen) != 0 {
					t.Errorf("local mode created step pods: %v", seen)
				}
			case "distributed":
				if len(seen) != wasmSteps {
					t.Errorf("%d step pods for %d Wasm steps: %v", len(seen), wasmSteps, seen)
				}
				for name, node := range seen {
					if node != env.nodeName {
						t.Errorf("step pod %s ran on node %q, want %q", name, node, env.nodeName)
					}
				}
				env.expectNoStepObjects(t)
			}
		})
	}
}

// ---- set-up ---------------------------------------------------------------------------------

// installArgo creates Argo's CRDs (from the v4.0.5 module's manifests), the namespace and the
// `default` service account's token Secret that the controller mounts into the agent pod.
func (e *e2eEnv) installArgo(t *testing.T) {
	ctx := t.Context()
	crds, _ := filepath.Glob(filepath.Join(os.Getenv("WWP_ARGO_MODULE_DIR"), "manifests/base/crds/minimal/argoproj.io_*.yaml"))
	if len(crds) == 0 {
		t.Fatal("no Argo CRDs under WWP_ARGO_MODULE_DIR")
	}
	crdResource := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	for _, file := range crds {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var obj unstructured.Unstructured
		if err := yaml.Unmarshal(data, &obj.Object); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if _, err := e.dynamic.Resource(crdResource).Create(ctx, &obj, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("CRD %s: %v", filepath.Base(file), err)
		}
	}
	waitFor(t, 60*time.Second, "Argo's CRDs to be served", func() error {
		_, err := e.workflows.ArgoprojV1alpha1().WorkflowTaskSets(e2eNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		_, err = e.workflows.ArgoprojV1alpha1().Workflows(e2eNamespace).List(ctx, metav1.ListOptions{})
		return err
	})
	if _, err := e.kube.CoreV1().Namespaces().Create(ctx, &apiv1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e2eNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	// As Argo's quick-start install does (manifests/quick-start/base/default.service-account-
	// token-secret.yaml): the agent pod mounts the workflow service account's token Secret. The
	// account first: Kubernetes' token controller deletes a token Secret whose account does not
	// exist (yet), and the agent pod would then wait for the Secret forever.
	waitFor(t, 60*time.Second, "the default service account", func() error {
		_, err := e.kube.CoreV1().ServiceAccounts(e2eNamespace).Get(ctx, "default", metav1.GetOptions{})
		return err
	})
	_, err := e.kube.CoreV1().Secrets(e2eNamespace).Create(ctx, &apiv1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "default.service-account-token",
			Annotations: map[string]string{apiv1.ServiceAccountNameKey: "default"}},
		Type: apiv1.SecretTypeServiceAccountToken,
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	e.waitForToken(t, "default.service-account-token")
}

// waitForToken waits until Kubernetes has filled in a service-account token Secret.
func (e *e2eEnv) waitForToken(t *testing.T, name string) {
	waitFor(t, 60*time.Second, "the token in Secret "+name, func() error {
		s, err := e.kube.CoreV1().Secrets(e2eNamespace).Get(t.Context(), name, metav1.GetOptions{})
		if err == nil && len(s.Data[apiv1.ServiceAccountTokenKey]) == 0 {
			return fmt.Errorf("not filled in yet")
		}
		return err
	})
}

// startS3 runs versitygw (posix backend: objects are plain files under s3Dir/<bucket>/<key>) and
// stores its credentials as the Secret the artifact repository names.
func (e *e2eEnv) startS3(t *testing.T) {
	e.s3Port = freePort(t)
	e.s3Dir = filepath.Join(e.work, "s3")
	if err := os.MkdirAll(filepath.Join(e.s3Dir, "artifacts"), 0o755); err != nil {
		t.Fatal(err)
	}
	home, _ := os.UserHomeDir()
	startProcess(t, "versitygw", filepath.Join(e.work, "versitygw.log"), nil,
		filepath.Join(home, "go/bin/versitygw"), "--access", "e2ekey", "--secret", "e2esecret1234",
		"--port", fmt.Sprintf("127.0.0.1:%d", e.s3Port), "--quiet", "posix", e.s3Dir)
	_, err := e.kube.CoreV1().Secrets(e2eNamespace).Create(t.Context(), &apiv1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "s3-cred"},
		StringData: map[string]string{"accesskey": "e2ekey", "secretkey": "e2esecret1234"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// writeControllerConfig: the default artifact repository, and workflow defaults that fit this
// node (no CNI: host network; no kube-proxy: the API server's own address in place of the
// `kubernetes` Service's; the node is not Ready: tolerate its taints).
func (e *e2eEnv) writeControllerConfig(t *testing.T) {
	host, port, _ := strings.Cut(strings.TrimPrefix(e.apiURL, "https://"), ":")
	apiEnv := fmt.Sprintf(`[{name: KUBERNETES_SERVICE_HOST, value: %q}, {name: KUBERNETES_SERVICE_PORT, value: %q}]`, host, port)
	cm := &apiv1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "workflow-controller-configmap"},
		Data: map[string]string{
			"artifactRepository": fmt.Sprintf(`s3:
  endpoint: 127.0.0.1:%d
  bucket: artifacts
  insecure: true
  accessKeySecret: {name: s3-cred, key: accesskey}
  secretKeySecret: {name: s3-cred, key: secretkey}
`, e.s3Port),
			"workflowDefaults": fmt.Sprintf(`spec:
  tolerations:
    - {key: node.kubernetes.io/not-ready, operator: Exists}
    - {key: node.kubernetes.io/unreachable, operator: Exists}
    - {key: node.kubernetes.io/network-unavailable, operator: Exists}
  podSpecPatch: |
    hostNetwork: true
    containers:
      - name: main
        env: %s
      - name: wasm-executor-plugin
        env: %s
`, apiEnv, apiEnv),
			"metricsConfig":   "enabled: false\n",
			"telemetryConfig": "enabled: false\n",
		},
	}
	if _, err := e.kube.CoreV1().ConfigMaps(e2eNamespace).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (e *e2eEnv) startController(t *testing.T) {
	startProcess(t, "workflow-controller", filepath.Join(e.work, "workflow-controller.log"),
		// A 1 s requeue (10 s by default) only makes the test quicker: the controller looks at
		// the workflow and the agent patches results more often.
		[]string{"LEADER_ELECTION_DISABLE=true", "KUBECONFIG=" + os.Getenv("KUBECONFIG"), "DEFAULT_REQUEUE_TIME=1s"},
		filepath.Join(os.Getenv("WWP_ARGO_BIN_DIR"), "workflow-controller"),
		"--namespace", e2eNamespace, "--namespaced", "--managed-namespace", e2eNamespace,
		"--executor-plugins", "--executor-image", os.Getenv("WWP_E2E_EXECUTOR_IMAGE"),
		"--executor-image-pull-policy", "Never", "--loglevel", "info")
}

// applyManifests creates (or replaces) every object of a chart rendering.
func (e *e2eEnv) applyManifests(t *testing.T, file string) {
	ctx := t.Context()
	for _, doc := range manifestDocs(t, file) {
		obj, err := decodeStrict([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		var opErr error
		switch o := obj.(type) {
		case *apiv1.ConfigMap:
			opErr = createOrUpdate(ctx, e.kube.CoreV1().ConfigMaps(o.Namespace), o)
		case *apiv1.ServiceAccount:
			opErr = createOrUpdate(ctx, e.kube.CoreV1().ServiceAccounts(o.Namespace), o)
		case *apiv1.Secret:
			_, opErr = e.kube.CoreV1().Secrets(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(opErr) {
				opErr = nil // a token Secret: Kubernetes has filled it in; keep it
			}
		case *rbacv1.Role:
			opErr = createOrUpdate(ctx, e.kube.RbacV1().Roles(o.Namespace), o)
		case *rbacv1.RoleBinding:
			opErr = createOrUpdate(ctx, e.kube.RbacV1().RoleBindings(o.Namespace), o)
		default:
			t.Fatalf("%s: unexpected object %T", file, obj)
		}
		if opErr != nil {
			t.Fatalf("%s: %v", file, opErr)
		}
	}
	e.waitForToken(t, "wasm-executor-plugin.service-account-token")
}

type objectClient[T metav1.Object] interface {
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
}

func createOrUpdate[T metav1.Object](ctx context.Context, client objectClient[T], obj T) error {
	_, err := client.Create(ctx, obj, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	current, err := client.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if err != nil {
		return err
	}
	obj.SetResourceVersion(current.GetResourceVersion())
	_, err = client.Update(ctx, obj, metav1.UpdateOptions{})
	return err
}

// ---- running workflows ----------------------------------------------------------------------

// runWorkflow submits an example, waits until it completes, deletes it (its agent pod goes with
// it, which frees the host-network ports for the next one) and returns it as it completed.
func (e *e2eEnv) runWorkflow(t *testing.T, example string) *wfv1.Workflow {
	t.Helper()
	ctx := t.Context()
	wf := loadWorkflow(t, example)
	wf.Namespace = e2eNamespace
	client := e.workflows.ArgoprojV1alpha1().Workflows(e2eNamespace)
	created, err := client.Create(ctx, wf, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("%s: %v", example, err)
	}
	start := time.Now()
	var done *wfv1.Workflow
	reported := map[string]bool{}
	for time.Since(start) < workflowDeadline {
		got, err := client.Get(ctx, created.Name, metav1.GetOptions{})
		if err == nil && got.Status.Phase.Completed() {
			done = got
			break
		}
		e.reportCrashes(t, created.Name, reported)
		time.Sleep(250 * time.Millisecond)
	}
	if done == nil {
		got, _ := client.Get(ctx, created.Name, metav1.GetOptions{})
		e.dumpAgent(t, created.Name)
		t.Fatalf("%s (%s) did not complete in %s: %+v\n%s", example, created.Name, workflowDeadline, got.Status.Phase, describeNodes(got))
	}
	t.Logf("%s: %s in %.1f s (created to completed, as the controller records it: %s)", example,
		done.Status.Phase, time.Since(start).Seconds(),
		done.Status.FinishedAt.Sub(done.Status.StartedAt.Time))
	if done.Status.Phase != wfv1.WorkflowSucceeded && example != "failing.yaml" {
		e.dumpAgent(t, created.Name)
	}
	propagation := metav1.DeletePropagationForeground
	if err := client.Delete(ctx, created.Name, metav1.DeleteOptions{PropagationPolicy: &propagation}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the agent pod of "+created.Name+" to go", func() error {
		pods, err := e.kube.CoreV1().Pods(e2eNamespace).List(ctx, metav1.ListOptions{LabelSelector: "workflows.argoproj.io/workflow=" + created.Name})
		if err == nil && len(pods.Items) > 0 {
			return fmt.Errorf("%d pods left", len(pods.Items))
		}
		return err
	})
	return done
}

// dumpAgent logs the containers of a workflow's agent pod (through the API server, as
// `kubectl logs` would).
func (e *e2eEnv) dumpAgent(t *testing.T, workflow string) {
	ctx := t.Context()
	pods, err := e.kube.CoreV1().Pods(e2eNamespace).List(ctx, metav1.ListOptions{
		LabelSelector: "workflows.argoproj.io/component=agent,workflows.argoproj.io/workflow=" + workflow})
	if err != nil || len(pods.Items) == 0 {
		t.Logf("agent pod of %s: %v (gone: the controller deletes it once the workflow completes)", workflow, err)
		return
	}
	pod := &pods.Items[0]
	name := pod.Name
	t.Logf("agent pod %s: phase %s, conditions %+v", name, pod.Status.Phase, pod.Status.Conditions)
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		raw, err := e.kube.CoreV1().Pods(e2eNamespace).GetLogs(name, &apiv1.PodLogOptions{Container: c.Name}).DoRaw(ctx)
		t.Logf("--- %s/%s (%v):\n%s", name, c.Name, err, tailText(string(raw), 40))
	}
}

// reportCrashes logs, once per container, why a container of the workflow's agent pod ended
// badly: the controller deletes the pod (and kubelet its logs) when the workflow completes.
func (e *e2eEnv) reportCrashes(t *testing.T, workflow string, reported map[string]bool) {
	ctx := t.Context()
	pods, err := e.kube.CoreV1().Pods(e2eNamespace).List(ctx, metav1.ListOptions{
		LabelSelector: "workflows.argoproj.io/component=agent,workflows.argoproj.io/workflow=" + workflow})
	if err != nil {
		return
	}
	for _, pod := range pods.Items {
		for _, c := range append(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses...) {
			ended := c.LastTerminationState.Terminated
			if ended == nil || ended.ExitCode == 0 || reported[pod.Name+"/"+c.Name] {
				continue
			}
			reported[pod.Name+"/"+c.Name] = true
			raw, err := e.kube.CoreV1().Pods(e2eNamespace).GetLogs(pod.Name, &apiv1.PodLogOptions{Container: c.Name, Previous: true}).DoRaw(ctx)
			t.Logf("agent pod %s: container %s ended with exit code %d (%s); its log (%v):\n%s", pod.Name, c.Name,
				ended.ExitCode, ended.Reason, err, tailText(string(raw), 30))
		}
	}
}

type podWatch struct {
	mu     sync.Mutex
	seen   map[string]string // step pod name -> node it was scheduled on
	cancel context.CancelFunc
	done   chan struct{}
}

// watchStepPods records every step pod the plugin creates and the node Kubernetes put it on.
func (e *e2eEnv) watchStepPods(t *testing.T) *podWatch {
	ctx, cancel := context.WithCancel(t.Context())
	w := &podWatch{seen: map[string]string{}, cancel: cancel, done: make(chan struct{})}
	watcher, err := e.kube.CoreV1().Pods(e2eNamespace).Watch(ctx, metav1.ListOptions{LabelSelector: stepPodSelector})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		defer watcher.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-watcher.ResultChan():
				if !ok {
					return
				}
				if pod, isPod := ev.Object.(*apiv1.Pod); isPod {
					w.mu.Lock()
					if pod.Spec.NodeName != "" || w.seen[pod.Name] == "" {
						w.seen[pod.Name] = pod.Spec.NodeName
					}
					w.mu.Unlock()
				}
			}
		}
	}()
	return w
}

func (w *podWatch) stop() map[string]string {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

func (e *e2eEnv) expectNoStepObjects(t *testing.T) {
	ctx := t.Context()
	waitFor(t, 60*time.Second, "step pods and request Secrets to be deleted", func() error {
		pods, err := e.kube.CoreV1().Pods(e2eNamespace).List(ctx, metav1.ListOptions{LabelSelector: stepPodSelector})
		if err != nil {
			return err
		}
		secrets, err := e.kube.CoreV1().Secrets(e2eNamespace).List(ctx, metav1.ListOptions{LabelSelector: stepPodSelector})
		if err != nil {
			return err
		}
		if len(pods.Items)+len(secrets.Items) > 0 {
			return fmt.Errorf("%d pods and %d secrets left", len(pods.Items), len(secrets.Items))
		}
		return nil
	})
}

// ---- checks ---------------------------------------------------------------------------------

func expectNodeResult(t *testing.T, wf *wfv1.Workflow, displayName, want string) {
	t.Helper()
	n := wf.Status.Nodes.FindByDisplayName(displayName)
	if n == nil {
		t.Errorf("%s: no node %q\n%s", wf.Name, displayName, describeNodes(wf))
		return
	}
	if n.Phase != wfv1.NodeSucceeded || n.Outputs == nil || n.Outputs.Result == nil || *n.Outputs.Result != want {
		t.Errorf("%s/%s: %s %q outputs %+v, want result %q", wf.Name, displayName, n.Phase, n.Message, n.Outputs, want)
	}
}

// outputArtifactText reads a node's output artifact from the S3 server's files (versitygw's posix
// backend keeps each object as a file) and returns the text of the single file in its tar.gz.
func (e *e2eEnv) outputArtifactText(t *testing.T, wf *wfv1.Workflow, displayName, artifact string) string {
	t.Helper()
	n := wf.Status.Nodes.FindByDisplayName(displayName)
	if n == nil || n.Outputs == nil {
		t.Fatalf("%s: no outputs for %q\n%s", wf.Name, displayName, describeNodes(wf))
	}
	a := n.Outputs.GetArtifactByName(artifact)
	if a == nil || a.S3 == nil || a.S3.Key == "" {
		t.Fatalf("%s/%s: output artifact %s has no S3 key: %+v", wf.Name, displayName, artifact, n.Outputs.Artifacts)
	}
	f, err := os.Open(filepath.Join(e.s3Dir, "artifacts", a.S3.Key))
	if err != nil {
		t.Fatalf("artifact %s: %v", a.S3.Key, err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("artifact %s: %v", a.S3.Key, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("artifact %s: no file in it (%v)", a.S3.Key, err)
		}
		if h.Typeflag == tar.TypeReg {
			data, _ := io.ReadAll(tr)
			return string(data)
		}
	}
}

// nodeResult is what the agent reported for a node, as the harness's outputParameter reads it.
func nodeResult(wf *wfv1.Workflow, displayName string) wfv1.NodeResult {
	n := wf.Status.Nodes.FindByDisplayName(displayName)
	if n == nil {
		return wfv1.NodeResult{}
	}
	return wfv1.NodeResult{Phase: n.Phase, Message: n.Message, Outputs: n.Outputs}
}

func describeNodes(wf *wfv1.Workflow) string {
	if wf == nil {
		return ""
	}
	var lines []string
	for _, n := range wf.Status.Nodes {
		result := ""
		if n.Outputs != nil && n.Outputs.Result != nil {
			result = *n.Outputs.Result
		}
		lines = append(lines, fmt.Sprintf("  %s (%s): %s %q result %q", n.DisplayName, n.Type, n.Phase, n.Message, result))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// ---- helpers --------------------------------------------------------------------------------

func waitFor(t *testing.T, limit time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %v", limit, what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startProcess runs a server for the rest of the test; its output goes to logFile, whose tail
// is logged when the test fails.
func startProcess(t *testing.T, name, logFile string, env []string, path string, args ...string) {
	t.Helper()
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		out.Close()
		if t.Failed() {
			t.Logf("--- %s log (%s):\n%s", name, logFile, tail(logFile, 60))
		}
	})
}
