package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/placer-dev/placer/internal/klogfile"
	"github.com/placer-dev/placer/pkg/localcluster"
)

// quantityFlag is a resource quantity flag that rejects bad values when
// parsed, naming the flag.
type quantityFlag struct{ q *resource.Quantity }

func (f quantityFlag) String() string {
	if f.q == nil {
		return ""
	}
	return f.q.String()
}

func (f quantityFlag) Set(v string) error {
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return fmt.Errorf("want a quantity such as 8 or 32Gi, got %q", v)
	}
	*f.q = q
	return nil
}

// clusterFlags are the flags of `placer-bench cluster up`.
type clusterFlags struct {
	opts            localcluster.Options
	config, logFile string
}

// newClusterCommand is `placer-bench cluster up`.
func newClusterCommand() *command {
	f := &clusterFlags{opts: localcluster.DefaultOptions()}
	opts := &f.opts
	fs := flag.NewFlagSet("cluster up", flag.ContinueOnError)
	fs.IntVar(&opts.Zones, "zones", opts.Zones, "zones (zone-a, zone-b, ...)")
	fs.IntVar(&opts.NodesPerZone, "nodes-per-zone", opts.NodesPerZone, "simulated nodes in each zone")
	fs.Var(quantityFlag{&opts.NodeCPU}, "node-cpu", "each node's cpu capacity")
	fs.Var(quantityFlag{&opts.NodeMemory}, "node-memory", "each node's memory capacity")
	fs.IntVar(&opts.NodePods, "node-pods", opts.NodePods, "pods each node can hold")
	fs.IntVar(&opts.MaxObjects, "max-objects", 0, "the most nodes the cluster may have (--zones × --nodes-per-zone), checked before anything starts; "+
		"0 means the default ceiling of placer-bench run --max-objects (docs/workloads.md, Ceilings)")
	fs.StringVar(&f.config, "config", "", "KubeSchedulerConfiguration for the scheduler (default: manifests/scheduler-config.yaml, profile placer)")
	fs.StringVar(&f.logFile, "log-file", filepath.Join(os.TempDir(), "placer-cluster.log"), "where the components' logs go (empty: discard)")
	return &command{name: "cluster", run: func(ctx context.Context, args []string) int {
		if len(args) == 0 || args[0] != "up" {
			fmt.Fprintln(os.Stderr, "usage: placer-bench cluster up [flags]")
			return 2
		}
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(os.Stderr, "placer-bench cluster up: unexpected arguments %v\n", fs.Args())
			return 2
		}
		return f.runE(ctx)
	}}
}

// runE checks the flags, starts the cluster with pkg/localcluster and
// stops it on Ctrl-C.
func (f *clusterFlags) runE(ctx context.Context) int {
	opts := f.opts
	bad := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "placer-bench cluster up: "+format+"\n", a...)
		return 2
	}
	switch {
	case opts.Zones < 1 || opts.Zones > 26:
		return bad("--zones=%d: want 1 to 26", opts.Zones)
	case opts.NodesPerZone < 1:
		return bad("--nodes-per-zone=%d: want at least 1", opts.NodesPerZone)
	case opts.NodePods < 1:
		return bad("--node-pods=%d: want at least 1", opts.NodePods)
	case opts.NodeCPU.Sign() <= 0:
		return bad("--node-cpu=%s: want a positive quantity", opts.NodeCPU.String())
	case opts.NodeMemory.Sign() <= 0:
		return bad("--node-memory=%s: want a positive quantity", opts.NodeMemory.String())
	}
	if f.config != "" {
		data, err := os.ReadFile(f.config)
		if err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench cluster up: --config: %v\n", err)
			return 2
		}
		opts.SchedulerConfig = data
	}
	closeLog, err := klogfile.Route(f.logFile, false)
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: --log-file=%s: %v\n", f.logFile, err)
		return 2
	}
	defer closeLog()
	fmt.Fprintln(os.Stderr, "starting etcd, kube-apiserver, controllers, nodes and placer-scheduler...")
	c, err := localcluster.Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench cluster up: %v\n", err)
		return 1
	}
	fmt.Printf(`local cluster up: %d simulated nodes over %d zones; placer-scheduler serves schedulerName %s
kubeconfig: %s

  export KUBECONFIG=%s
  kubectl apply -f manifests/examples/
  kubectl get pods -o wide

Ctrl-C stops the cluster and removes its files.
`, len(c.Nodes), opts.Zones, strings.Join(c.SchedulerNames, ", "), c.KubeconfigPath, c.KubeconfigPath)
	if f.logFile != "" {
		fmt.Printf("logs: %s\n", f.logFile)
	}
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "stopping...")
	if err := c.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench cluster up: stopping: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "stopped; removed %s\n", c.Dir)
	return 0
}
