package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/placer-dev/placer/pkg/bench/snapshot"
)

// newSnapshotCommand is `placer-bench snapshot --kubeconfig FILE -o FILE`.
func newSnapshotCommand() *command {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "the cluster to read (required); it is only listed, never written")
	out := fs.String("o", "", "the snapshot file to write (required; a new file, mode 0600)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: placer-bench snapshot --kubeconfig FILE -o snap.yaml

Writes what a scheduler sees of a live cluster (nodes, pods, volumes, claims, storage and priority
classes, Deployments, ReplicaSets, StatefulSets, Jobs) as a kubectl-style List. Secrets and ConfigMaps
are never read; containers' environment is left out. A workload file starts from it with
cluster: {snapshot: snap.yaml} (docs/workloads.md).

`)
		fs.PrintDefaults()
	}
	return &command{name: "snapshot", run: func(ctx context.Context, args []string) int {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(os.Stderr, "placer-bench snapshot: unexpected arguments %v\n", fs.Args())
			return 2
		}
		s, err := snapshot.Take(ctx, *kubeconfig, *out)
		if err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench snapshot: %v\n", err)
			return 1
		}
		fmt.Printf("%s: %d nodes, %d pods, %d objects\n", *out, len(s.Nodes), len(s.Pods), s.Objects())
		return 0
	}}
}
