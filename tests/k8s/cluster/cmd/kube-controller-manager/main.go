// The real kube-controller-manager, unchanged: the upstream command built from k8s.io/kubernetes.
// The tests run its garbage collector (a Workflow's pods go with it) and service-account
// controllers.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
