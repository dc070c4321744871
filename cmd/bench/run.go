package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/placer-dev/placer/pkg/bench/limits"
	"github.com/placer-dev/placer/pkg/bench/session"
	"github.com/placer-dev/placer/pkg/sim"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// setFlag collects --set name=value params.
type setFlag map[string]int

func (s setFlag) String() string { return fmt.Sprint(map[string]int(s)) }
func (s setFlag) Set(v string) error {
	name, val, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("want name=value, got %q", v)
	}
	n, err := strconv.Atoi(val)
	if err != nil {
		return fmt.Errorf("%s: want an integer, got %q", name, val)
	}
	s[name] = n
	return nil
}

// runFlags are the flags of `placer-bench run`.
type runFlags struct {
	file, caseName string
	profiles       listFlag
	sets           setFlag
	maxObjects     int
	explain        float64
	opts           session.Options
}

// newRunCommand is `placer-bench run -f FILE`: a workload file or an
// upstream scheduler_perf file, with one or more profiles.
func newRunCommand() *command {
	f := &runFlags{sets: setFlag{}}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&f.file, "f", "", "workload file (see docs and examples/bench), or an upstream scheduler_perf performance-config.yaml (docs/upstream.md)")
	fs.StringVar(&f.opts.Backend, "backend", sim.BackendMemory, "where objects live: "+strings.Join(sim.Backends, ", "))
	fs.Var(&f.profiles, "profile", "scheduler profile: default, placer, or a KubeSchedulerConfiguration file (repeat to compare; the first is the baseline)")
	fs.Var(f.sets, "set", "override a workload param: name=value (repeatable)")
	fs.StringVar(&f.caseName, "case", "", "with an upstream scheduler_perf file: the workload to run, NAME/WORKLOAD (the file's only one by default)")
	fs.StringVar(&f.opts.LogFile, "log-file", session.DefaultLogFile, "where scheduler and API server logs go, a file made 0600 (empty: discard)")
	fs.StringVar(&f.opts.Kubeconfig, "kubeconfig", "", "kubeconfig file for --backend kubeconfig (a real cluster; run KWOK there for runs longer than the node grace period)")
	fs.StringVar(&f.opts.Controllers, "controllers", sim.ControllersAuto, "with --backend kubeconfig, who makes the pods of Deployments, StatefulSets and Jobs: "+
		"cluster (its kube-controller-manager), harness (the run, as on the other backends), or auto (cluster when kube-controller-manager's Lease in kube-system is held)")
	fs.StringVar(&f.opts.Out, "out", "", "directory for report.json, dataitems.json, bench.txt and placements (default _output/bench/<run>)")
	fs.StringVar(&f.opts.MetricsAddr, "metrics-addr", "", "serve the run's live figures on http://ADDR/metrics for Prometheus, e.g. :9091 (empty: off)")
	fs.BoolVar(&f.opts.CPUProfile, "cpuprofile", false, "write a Go CPU profile of each run to <out>/cpu-<profile>[-<run>].pprof (go tool pprof reads it)")
	fs.IntVar(&f.opts.Count, "count", 1, fmt.Sprintf("run each profile this many times (1 to %d), interleaved A B A B ..., each run in a process of its own; 6 or more give 95%% intervals", session.MaxCount))
	fs.BoolVar(&f.opts.Shuffle, "shuffle", false, "run the profiles of each round in an order drawn from the workload's seed, instead of as given")
	fs.IntVar(&f.maxObjects, "max-objects", 0, limits.FlagHelp)
	fs.Float64Var(&f.explain, "explain", session.DefaultExplainPercent, "explain this percent of the pods (0 to 100, the same pods under every profile) with the Explain plugin, added to every profile; "+
		"placer-bench explain prints them, report.html compares a few (0: profiles unchanged)")
	return &command{name: "run", run: func(ctx context.Context, args []string) int {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		return f.runE(ctx, fs.Args())
	}}
}

// runE checks the flags and hands the job to session.Compare. Everything
// that can be wrong with the input is found before anything runs.
func (f *runFlags) runE(ctx context.Context, rest []string) int {
	bad := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, format+"\n", a...)
		return 2
	}
	switch {
	case f.file == "":
		return bad("placer-bench run: -f FILE is required")
	case len(rest) > 0:
		return bad("placer-bench run: unexpected arguments %v (flags go before nothing else)", rest)
	case f.opts.Count < 1 || f.opts.Count > session.MaxCount:
		return bad("placer-bench run: --count %d: want 1 to %d runs per profile", f.opts.Count, session.MaxCount)
	}
	job, err := session.NewJob(session.Input{File: f.file, Case: f.caseName, Sets: f.sets, Profiles: f.profiles, MaxObjects: f.maxObjects, ExplainPercent: f.explain})
	switch {
	case err != nil:
		return bad("placer-bench: %v", err)
	case !slices.Contains(sim.Backends, f.opts.Backend):
		return bad("placer-bench: --backend %q: want one of %v", f.opts.Backend, sim.Backends)
	case f.opts.Backend == sim.BackendKubeconfig && f.opts.Kubeconfig == "":
		return bad("placer-bench: --backend kubeconfig needs --kubeconfig FILE")
	case !slices.Contains([]string{sim.ControllersAuto, sim.ControllersCluster, sim.ControllersHarness}, f.opts.Controllers):
		return bad("placer-bench: --controllers %q: want %s, %s or %s", f.opts.Controllers, sim.ControllersAuto, sim.ControllersCluster, sim.ControllersHarness)
	}
	return exitStatus("placer-bench", session.Compare(ctx, job, f.opts, os.Stdout, os.Stderr))
}

// newRunProfileCommand is the hidden `placer-bench run-profile --spec FILE`
// that a session starts for each of its runs.
func newRunProfileCommand() *command {
	fs := flag.NewFlagSet(session.ChildCommand, flag.ContinueOnError)
	specFile := fs.String("spec", "", "the run to make (written by placer-bench run)")
	return &command{name: session.ChildCommand, run: func(ctx context.Context, args []string) int {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		return exitStatus("placer-bench "+session.ChildCommand, session.ChildMain(ctx, *specFile))
	}}
}
