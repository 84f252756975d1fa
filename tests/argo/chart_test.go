package argo

// Checks the manifests the Helm chart (deploy/helm) renders, and the plain manifests
// (deploy/kustomize), with Argo's and Kubernetes' own types: tests/deploy/chart_test.sh renders
// the chart with several value sets into WWP_CHART_RENDERED (one file per value set) and runs
// this test. Without that variable the test is skipped (it belongs to the `deploy` suite).

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	apiv1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/argoproj/argo-workflows/v4/workflow/common"
	plugin "github.com/argoproj/argo-workflows/v4/workflow/util/plugins"
)

var documentSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// manifestDocs reads a multi-document manifest file and returns its documents that hold more
// than comments.
func manifestDocs(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, doc := range documentSeparator.Split(string(data), -1) {
		if strings.TrimSpace(stripComments(doc)) != "" {
			docs = append(docs, doc)
		}
	}
	return docs
}

// decodeStrict decodes one manifest into the typed object of its kind; unknown fields fail.
func decodeStrict(doc []byte) (any, error) {
	var meta struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return nil, err
	}
	var obj any
	switch meta.APIVersion + " " + meta.Kind {
	case "v1 ConfigMap":
		obj = &apiv1.ConfigMap{}
	case "v1 Secret":
		obj = &apiv1.Secret{}
	case "v1 ServiceAccount":
		obj = &apiv1.ServiceAccount{}
	case "rbac.authorization.k8s.io/v1 Role":
		obj = &rbacv1.Role{}
	case "rbac.authorization.k8s.io/v1 RoleBinding":
		obj = &rbacv1.RoleBinding{}
	default:
		return nil, fmt.Errorf("unexpected object %s %s", meta.APIVersion, meta.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return nil, fmt.Errorf("%s: %w", meta.Kind, err)
	}
	return obj, nil
}

func TestRenderedChart(t *testing.T) {
	dir := os.Getenv("WWP_CHART_RENDERED")
	if dir == "" {
		t.Skip("WWP_CHART_RENDERED is not set (tests/deploy/chart_test.sh sets it)")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no rendered manifests in %s (%v)", dir, err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { checkRendering(t, file) })
	}
}

func checkRendering(t *testing.T, file string) {
	var pluginMaps []*apiv1.ConfigMap
	accounts := map[string]bool{} // namespace/name of ServiceAccounts
	tokens := map[string]string{} // namespace/secret -> the account it is the token of
	boundAccounts := map[string]bool{}
	for _, doc := range manifestDocs(t, file) {
		obj, err := decodeStrict([]byte(doc))
		if err != nil {
			t.Errorf("%v in\n%s", err, doc)
			continue
		}
		switch o := obj.(type) {
		case *apiv1.ConfigMap:
			if o.Labels[common.LabelKeyConfigMapType] == common.LabelValueTypeConfigMapExecutorPlugin {
				pluginMaps = append(pluginMaps, o)
			}
		case *apiv1.ServiceAccount:
			accounts[o.Namespace+"/"+o.Name] = true
		case *apiv1.Secret:
			if o.Type == apiv1.SecretTypeServiceAccountToken {
				tokens[o.Namespace+"/"+o.Name] = o.Annotations[apiv1.ServiceAccountNameKey]
			}
		case *rbacv1.RoleBinding:
			for _, s := range o.Subjects {
				boundAccounts[s.Namespace+"/"+s.Name] = true
			}
		}
	}
	if len(pluginMaps) != 1 {
		t.Fatalf("%d ExecutorPlugin ConfigMaps, want 1", len(pluginMaps))
	}
	cm := pluginMaps[0]

	// What the controller does with it (workflow/controller/plugins.go: FromConfigMap, Validate).
	p, err := plugin.FromConfigMap(cm)
	if err != nil {
		t.Fatalf("the controller would reject the ConfigMap: %v", err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("the controller would reject the plugin: %v", err)
	}
	// Exactly what `argo executor-plugin build` writes for the same plugin.
	built, err := plugin.ToConfigMap(p)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range built.Data {
		if got := cm.Data[key]; got != want {
			t.Errorf("data[%q] differs from what `argo executor-plugin build` writes:\n--- chart\n%s\n--- argo\n%s", key, got, want)
		}
	}
	if len(cm.Data) != len(built.Data) {
		t.Errorf("data keys %v, argo writes %v", keys(cm.Data), keys(built.Data))
	}

	c := p.Spec.Sidecar.Container
	if c.Name != cm.Name || c.Name != wasmPluginName {
		t.Errorf("container %q in ConfigMap %q: the agent calls the plugin by container name %q", c.Name, cm.Name, wasmPluginName)
	}
	args := " " + strings.Join(c.Args, " ") + " "
	for _, want := range []string{" serve ", fmt.Sprintf(" --port=%d ", c.Ports[0].ContainerPort),
		" --token-file=/var/run/argo/token ", " --bind=127.0.0.1 "} {
		if !strings.Contains(args, want) {
			t.Errorf("args %q lack %q (the agent calls http://localhost:<first containerPort> with its token)", args, want)
		}
	}
	sc := c.SecurityContext
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 65532 || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("securityContext %+v: the image's user is 65532", sc)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	readOnly := sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
	if readOnly && (mounts["/tmp"] == "" || mounts["/var/cache/wasm-workflows-plugin"] == "") {
		t.Errorf("read-only root filesystem without volumes for /tmp and the cache: %v", mounts)
	}
	for _, probe := range []*apiv1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if probe != nil && probe.HTTPGet != nil && !hasPort(c.Ports, probe.HTTPGet.Port.IntVal) {
			t.Errorf("probe on port %d, which the container does not declare", probe.HTTPGet.Port.IntVal)
		}
	}
	// The controller mounts the token of <plugin>-executor-plugin, found as that account's Secret
	// <account>.service-account-token, when automountServiceAccountToken is set.
	if p.Spec.Sidecar.AutomountServiceAccountToken {
		if !strings.Contains(args, " --discover-artifact-repository ") && !strings.Contains(args, " --mode=distributed ") {
			t.Errorf("a service account token without artifact discovery or distributed mode, its only uses")
		}
		account := cm.Name
		found := false
		for key := range accounts {
			ns, name, _ := strings.Cut(key, "/")
			if name != account {
				continue
			}
			found = true
			if tokens[ns+"/"+account+".service-account-token"] != account {
				t.Errorf("no token Secret %s.service-account-token for the account in %s", account, ns)
			}
			if !boundAccounts[key] {
				t.Errorf("service account %s has no RoleBinding", key)
			}
		}
		if !found {
			t.Errorf("automountServiceAccountToken without a ServiceAccount %q", account)
		}
	}
}

func stripComments(doc string) string {
	var out bytes.Buffer
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out.WriteString(line + "\n")
		}
	}
	return out.String()
}

func hasPort(ports []apiv1.ContainerPort, port int32) bool {
	for _, p := range ports {
		if p.ContainerPort == port {
			return true
		}
	}
	return false
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestChartAcceptedByAPIServer creates every object of each rendering in a real kube-apiserver
// (tests/k8s, env from `cluster.sh up`), reads the ExecutorPlugin ConfigMap back from the server
// and hands it to Argo's code, and waits for the controller-manager to fill in the service
// account's token Secret, which is what the workflow controller mounts into the sidecar.
func TestChartAcceptedByAPIServer(t *testing.T) {
	dir, host := os.Getenv("WWP_CHART_RENDERED"), os.Getenv("K8S_API_URL")
	if dir == "" || host == "" {
		t.Skip("WWP_CHART_RENDERED or K8S_API_URL is not set (tests/deploy/chart_apply_test.sh sets them)")
	}
	client, err := kubernetes.NewForConfig(&rest.Config{Host: host, BearerToken: os.Getenv("K8S_TOKEN"),
		TLSClientConfig: rest.TLSClientConfig{CAFile: os.Getenv("K8S_CA_FILE")}})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for i, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { applyRendering(t, client, file, i) })
	}
}

func applyRendering(t *testing.T, client *kubernetes.Clientset, file string, index int) {
	ctx := t.Context()
	// Each rendering in namespaces of its own, so that renderings do not collide.
	suffix := fmt.Sprintf("-r%d", index)
	ensureNamespace := func(ns string) {
		_, err := client.CoreV1().Namespaces().Create(ctx, &apiv1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("namespace %s: %v", ns, err)
		}
	}
	var pluginMap *apiv1.ConfigMap
	var tokenSecrets []*apiv1.Secret
	for _, doc := range manifestDocs(t, file) {
		obj, err := decodeStrict([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		switch o := obj.(type) {
		case *apiv1.ConfigMap:
			o.Namespace += suffix
			ensureNamespace(o.Namespace)
			if pluginMap, err = client.CoreV1().ConfigMaps(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
				t.Errorf("ConfigMap %s refused: %v", o.Name, err)
			}
		case *apiv1.ServiceAccount:
			o.Namespace += suffix
			ensureNamespace(o.Namespace)
			if _, err := client.CoreV1().ServiceAccounts(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
				t.Errorf("ServiceAccount %s refused: %v", o.Name, err)
			}
		case *apiv1.Secret:
			o.Namespace += suffix
			ensureNamespace(o.Namespace)
			created, err := client.CoreV1().Secrets(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
			if err != nil {
				t.Errorf("Secret %s refused: %v", o.Name, err)
			} else if o.Type == apiv1.SecretTypeServiceAccountToken {
				tokenSecrets = append(tokenSecrets, created)
			}
		case *rbacv1.Role:
			o.Namespace += suffix
			ensureNamespace(o.Namespace)
			if _, err := client.RbacV1().Roles(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
				t.Errorf("Role %s refused: %v", o.Name, err)
			}
		case *rbacv1.RoleBinding:
			o.Namespace += suffix
			for i := range o.Subjects {
				o.Subjects[i].Namespace += suffix
			}
			ensureNamespace(o.Namespace)
			if _, err := client.RbacV1().RoleBindings(o.Namespace).Create(ctx, o, metav1.CreateOptions{}); err != nil {
				t.Errorf("RoleBinding %s refused: %v", o.Name, err)
			}
		}
	}
	if pluginMap == nil {
		t.Fatal("no ExecutorPlugin ConfigMap was created")
	}
	stored, err := client.CoreV1().ConfigMaps(pluginMap.Namespace).Get(ctx, pluginMap.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stored.Labels[common.LabelKeyConfigMapType] != common.LabelValueTypeConfigMapExecutorPlugin {
		t.Errorf("stored labels %v", stored.Labels)
	}
	p, err := plugin.FromConfigMap(stored)
	if err != nil {
		t.Fatalf("the controller would reject the stored ConfigMap: %v", err)
	}
	if p.Spec.Sidecar.Container.Name != wasmPluginName {
		t.Errorf("stored sidecar %q", p.Spec.Sidecar.Container.Name)
	}
	for _, s := range tokenSecrets {
		deadline := time.Now().Add(60 * time.Second)
		for {
			got, err := client.CoreV1().Secrets(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
			if err == nil && len(got.Data[apiv1.ServiceAccountTokenKey]) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("token Secret %s/%s was never filled in by the controller-manager (%v)", s.Namespace, s.Name, err)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
