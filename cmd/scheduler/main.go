// Command placer-scheduler is the upstream kube-scheduler with Placer's
// plugins and the production plugins of sigs.k8s.io/scheduler-plugins
// registered, so one binary serves profiles that use either.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics on /metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // build info on /metrics
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	"github.com/placer-dev/placer/pkg/registry"
	"github.com/placer-dev/placer/pkg/version"
)

func main() {
	version.PinKubeComponentVersion()
	cmd := app.NewSchedulerCommand(registry.Options()...)
	cmd.Use = "placer-scheduler"
	cmd.Short = "Placer: the Kubernetes scheduler with resource-, zone- and StatefulSet-aware plugins"
	os.Exit(cli.Run(cmd))
}
