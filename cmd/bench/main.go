// Command placer-bench is Placer's benchmark harness. Each command here
// only reads its flags and calls the library: pkg/bench/session runs the
// benchmarks, pkg/bench/report writes their reports, pkg/localcluster is
// `cluster up`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/placer-dev/placer/pkg/bench/session"
)

const usage = `placer-bench: measure and demonstrate Kubernetes scheduler profiles.

Usage:
  placer-bench run -f FILE [flags]  run a workload file with one or more scheduler profiles,
                                    side by side, and print the comparison
  placer-bench trace openb|file ... replay a workload trace (Alibaba OpenB, or the neutral format of
                                    docs/traces.md) with one or more profiles: the FGD paper's metric
  placer-bench report DIR           (re)write DIR/report.html and its SVG charts from DIR/report.json
  placer-bench explain DIR POD      why POD (NAMESPACE/NAME or NAME) went where it did under each profile
                                    of the run in DIR (placer-bench run --explain samples the pods)
  placer-bench scaling OUT DIR...   draw throughput and peak memory against node count from runs of
                                    one shape at several sizes (make bench-scaling) into OUT/scaling.html
  placer-bench cluster up [flags]   a local cluster to try Placer on: control plane, controllers,
                                    simulated nodes over zones, volumes, placer-scheduler
  placer-bench snapshot --kubeconfig FILE -o FILE
                                    read a live cluster (never writes to it) into a file that a
                                    workload file can start from: what would each profile do there?

Run 'placer-bench <command> -h' for its flags.
`

// command is one subcommand, in kwok's NewCommand/runE shape on Go's flag
// package (which keeps the single-dash forms, -f and -count, that the docs
// and scripts use): its constructor defines the flags, and run parses
// args with them and calls the library, returning the exit status.
type command struct {
	name string
	run  func(ctx context.Context, args []string) int
}

func commands() []*command {
	return []*command{newRunCommand(), newTraceCommand(), newReportCommand(), newExplainCommand(), newScalingCommand(), newClusterCommand(), newSnapshotCommand(), newRunProfileCommand()}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	}
	for _, c := range commands() {
		if c.name == os.Args[1] {
			// Ctrl-C and SIGTERM end a command as it sees fit: a session
			// reports what it measured, a cluster stops.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := c.run(ctx, os.Args[2:])
			stop()
			os.Exit(code)
		}
	}
	fmt.Fprintf(os.Stderr, "placer-bench: unknown command %q\n\n%s", os.Args[1], usage)
	os.Exit(2)
}

// exitStatus prints err after prefix, unless the library's own output
// already said why (a *session.ExitError without Err), and returns the exit
// status for it.
func exitStatus(prefix string, err error) int {
	if err == nil {
		return 0
	}
	code := 1
	var e *session.ExitError
	if errors.As(err, &e) {
		code = e.Code
		if e.Err == nil {
			return code
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", prefix, err)
	return code
}
