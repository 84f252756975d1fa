// Command argoexec stands in for Argo's executor image in the agent pod of the end-to-end test
// (controller_test.go). Argo's own argoexec does not build from the Go module proxy (a Linux-only
// file of its emissary is missing from the published module), so this program carries the two
// subcommands the workflow controller gives the agent pod, `agent init` and `agent main`, wired
// exactly as cmd/argoexec/commands/agent.go of v4.0.5 wires them: the same token files under
// /var/run/argo, the same environment (ARGO_PLUGIN_NAMES, ARGO_PLUGIN_ADDRESSES,
// ARGO_WORKFLOW_NAME, ARGO_WORKFLOW_UID), the same in-cluster client and Argo's real
// AgentExecutor and plugin RPC client. Nothing here is the plugin's code.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	executorplugins "github.com/argoproj/argo-workflows/v4/pkg/plugins/executor"
	"github.com/argoproj/argo-workflows/v4/util/logging"
	"github.com/argoproj/argo-workflows/v4/workflow/common"
	"github.com/argoproj/argo-workflows/v4/workflow/executor"
	"github.com/argoproj/argo-workflows/v4/workflow/executor/plugins/rpc"
)

func main() {
	// The controller passes `agent init|main` and its log options (--loglevel, --log-format, ...).
	if len(os.Args) < 3 || os.Args[1] != "agent" {
		fmt.Fprintln(os.Stderr, "usage: argoexec agent init|main [log options]")
		os.Exit(2)
	}
	ctx := logging.WithLogger(context.Background(), logging.NewSlogLogger(logging.Info, logging.Text))
	var err error
	switch os.Args[2] {
	case "init":
		err = agentInit(ctx)
	case "main":
		err = agentMain(ctx)
	default:
		err = fmt.Errorf("unknown agent command %q", os.Args[2])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "argoexec:", err)
		os.Exit(1)
	}
}

func tokenFilename(name string) string {
	return filepath.Join(common.VarRunArgoPath, name, "token")
}

func jsonList(env string) ([]string, error) {
	var list []string
	if err := json.Unmarshal([]byte(os.Getenv(env)), &list); err != nil {
		return nil, fmt.Errorf("%s: %w", env, err)
	}
	return list, nil
}

// agentInit writes a random token for each plugin, as `argoexec agent init` does.
func agentInit(ctx context.Context) error {
	names, err := jsonList(common.EnvVarPluginNames)
	if err != nil {
		return err
	}
	for _, name := range names {
		filename := tokenFilename(name)
		logging.RequireLoggerFromContext(ctx).WithField("plugin", name).
			WithField("filename", filename).Info(ctx, "creating token file for plugin")
		if err := os.Mkdir(filepath.Dir(filename), 0o770); err != nil {
			return err
		}
		if err := os.WriteFile(filename, []byte(rand.String(32)), 0o440); err != nil {
			return err
		}
	}
	return nil
}

// agentMain runs Argo's AgentExecutor against the plugins, as `argoexec agent main` does.
func agentMain(ctx context.Context) error {
	clientConfig := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		clientcmd.NewDefaultClientConfigLoadingRules(), &clientcmd.ConfigOverrides{})
	config, err := clientConfig.ClientConfig()
	if err != nil {
		return err
	}
	config = restclient.AddUserAgent(config, "argo-workflows/v4.0.5 argo-executor/agent Executor")
	namespace, _, err := clientConfig.Namespace()
	if err != nil {
		return err
	}
	clientSet, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	workflowName, ok := os.LookupEnv(common.EnvVarWorkflowName)
	if !ok {
		return fmt.Errorf("%s is not set", common.EnvVarWorkflowName)
	}
	workflowUID, ok := os.LookupEnv(common.EnvVarWorkflowUID)
	if !ok {
		return fmt.Errorf("%s is not set", common.EnvVarWorkflowUID)
	}
	addresses, err := jsonList(common.EnvVarPluginAddresses)
	if err != nil {
		return err
	}
	names, err := jsonList(common.EnvVarPluginNames)
	if err != nil {
		return err
	}
	var plugins []executorplugins.TemplateExecutor
	for i, address := range addresses {
		data, err := os.ReadFile(tokenFilename(names[i]))
		if err != nil {
			return fmt.Errorf("plugin %s's token: %w", names[i], err)
		}
		plugins = append(plugins, rpc.New(address, string(data)))
	}
	return executor.NewAgentExecutor(clientSet, clientSet.RESTClient(), config, namespace,
		workflowName, workflowUID, plugins).Agent(ctx)
}
