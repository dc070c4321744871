package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/placer-dev/placer/pkg/bench/limits"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/session"
	"github.com/placer-dev/placer/pkg/bench/trace"
	"github.com/placer-dev/placer/pkg/sim"
)

const traceUsage = `Usage:
  placer-bench trace openb --nodes NODES.csv --pods PODS.csv [flags]   replay an Alibaba OpenB trace
  placer-bench trace file FILE [flags]                                  replay a trace in the neutral format (docs/traces.md)
  placer-bench trace openb --nodes NODES.csv --pods PODS.csv --convert OUT.jsonl
                                                                        write it in the neutral format and stop

Each seed (--protocol fgd) or each of --count runs (timeline) is one run of each profile in a process
of its own; the table gives medians and intervals over them (docs/traces.md).
`

// traceFlags are the flags of `placer-bench trace`.
type traceFlags struct {
	in             session.TraceInput
	convert, seeds string
	target, speed  float64
	profiles       listFlag
	maxObjects     int
	opts           session.Options
}

// newTraceCommand is `placer-bench trace openb|file`.
func newTraceCommand() *command {
	f := &traceFlags{}
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, traceUsage+"\nFlags:\n"); fs.PrintDefaults() }
	fs.StringVar(&f.in.Nodes, "nodes", "", "openb: the node list (openb_node_list_*.csv)")
	fs.StringVar(&f.in.Pods, "pods", "", "openb: the pod list (openb_pod_list_*.csv)")
	fs.StringVar(&f.convert, "convert", "", "write the trace in the neutral format (JSON Lines) to this file and stop")
	fs.StringVar(&f.in.Protocol, "protocol", trace.ProtocolFGD, "fgd: pods drawn per seed up to --target % of GPU capacity, offered one at a time, none departing; timeline: the trace's own arrivals and departures, times divided by --speed")
	fs.StringVar(&f.seeds, "seed", "42", "fgd: the seeds, one replay each: N, N-M or a comma-separated list (the FGD paper uses 42-51)")
	fs.Float64Var(&f.target, "target", 130, fmt.Sprintf("fgd: draw pods until their GPU requests reach this %% of the cluster's GPU capacity (1 to %d)", trace.MaxTargetPercent))
	fs.Float64Var(&f.speed, "speed", 0, "timeline: divide the trace's times by this (required with --protocol timeline; the OpenB default trace spans 149 days)")
	fs.StringVar(&f.in.GPUSharing, "gpu-sharing", result.GPUSharingWhole, "how a pod asking for part of one GPU (gpu_milli < 1000) is offered: whole (a whole nvidia.com/gpu, which any profile places) or share (its share in the annotation placer.dev/gpu-milli, no nvidia.com/gpu; its GPU counts as allocated only once the profile names the device)")
	fs.StringVar(&f.opts.Backend, "backend", sim.BackendMemory, "where objects live: memory or embedded")
	fs.Var(&f.profiles, "profile", "scheduler profile: default, placer, or a KubeSchedulerConfiguration file (repeat to compare; the first is the baseline)")
	fs.StringVar(&f.opts.LogFile, "log-file", session.DefaultLogFile, "where scheduler and API server logs go, a file made 0600 (empty: discard)")
	fs.StringVar(&f.opts.Out, "out", "", "directory for report.json, bench.txt, placements and report.html (default _output/bench/<run>)")
	fs.BoolVar(&f.opts.CPUProfile, "cpuprofile", false, "write a Go CPU profile of each run to <out>/cpu-<profile>[-<run>].pprof")
	fs.IntVar(&f.opts.Count, "count", 1, "fgd: replays of each seed per profile; timeline: replays per profile")
	fs.BoolVar(&f.opts.Shuffle, "shuffle", false, "run the profiles of each round in an order drawn from the first seed")
	fs.IntVar(&f.maxObjects, "max-objects", 0, limits.FlagHelp)
	return &command{name: "trace", run: func(ctx context.Context, args []string) int {
		if len(args) == 0 || (args[0] != session.TraceOpenB && args[0] != session.TraceFile) {
			fmt.Fprint(os.Stderr, traceUsage+"Run 'placer-bench trace openb -h' for the flags.\n")
			return 2
		}
		f.in.Format, args = args[0], args[1:]
		// The neutral file may come before the flags or after them.
		if f.in.Format == session.TraceFile && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			f.in.File, args = args[0], args[1:]
		}
		if err := fs.Parse(args); err != nil {
			return 2
		}
		rest := fs.Args()
		if f.in.Format == session.TraceFile && f.in.File == "" && len(rest) == 1 {
			f.in.File, rest = rest[0], nil
		}
		return f.runE(ctx, fs, rest)
	}}
}

// runE checks the flags, which go with which protocol and their ranges,
// and hands the replay to session.Compare (or, with --convert, writes the
// trace in the neutral format).
func (f *traceFlags) runE(ctx context.Context, fs *flag.FlagSet, rest []string) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "placer-bench trace: "+format+"\n", a...)
		return 2
	}
	if len(rest) > 0 {
		return fail("unexpected arguments %v", rest)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	in := f.in
	switch in.Format {
	case session.TraceOpenB:
		if in.Nodes == "" || in.Pods == "" {
			return fail("openb needs --nodes NODES.csv and --pods PODS.csv")
		}
	case session.TraceFile:
		if in.File == "" {
			return fail("file needs the trace file: placer-bench trace file FILE [flags]")
		}
		if set["nodes"] || set["pods"] {
			return fail("--nodes and --pods are for openb; a neutral trace file holds both")
		}
	}
	if f.convert != "" {
		t, err := in.Read()
		if err != nil {
			return fail("%v", err)
		}
		if err := session.WriteTrace(f.convert, t); err != nil {
			return fail("--convert %s: %v", f.convert, err)
		}
		fmt.Fprintf(os.Stderr, "%s: %d nodes, %d pods\n", f.convert, len(t.Nodes), len(t.Pods))
		return 0
	}

	count := f.opts.Count
	if count < 1 || count > session.MaxCount {
		return fail("--count %d: want 1 to %d", count, session.MaxCount)
	}
	switch in.Protocol {
	case trace.ProtocolFGD:
		if set["speed"] {
			return fail("--speed is for --protocol timeline")
		}
		seeds, err := trace.ParseSeeds(f.seeds)
		if err != nil {
			return fail("%v", err)
		}
		if f.target < 1 || f.target > trace.MaxTargetPercent {
			return fail("--target %g: want 1 to %d (%% of the cluster's GPU capacity)", f.target, trace.MaxTargetPercent)
		}
		if len(seeds)*count > session.MaxCount {
			return fail("%d seeds × --count %d: more than %d runs per profile", len(seeds), count, session.MaxCount)
		}
		in.Seeds, in.TargetPercent = seeds, f.target
	case trace.ProtocolTimeline:
		if set["seed"] || set["target"] {
			return fail("--seed and --target are for --protocol fgd")
		}
		if !set["speed"] {
			return fail("--protocol timeline needs --speed S (the trace's times are divided by S)")
		}
		in.Speed = f.speed
	default:
		return fail("--protocol %q: want %s or %s", in.Protocol, trace.ProtocolFGD, trace.ProtocolTimeline)
	}
	if f.opts.Backend != sim.BackendMemory && f.opts.Backend != sim.BackendEmbedded {
		return fail("--backend %q: want memory or embedded (a replay makes its own cluster of the trace's nodes)", f.opts.Backend)
	}
	job, err := session.NewJob(session.Input{Trace: &in, Profiles: f.profiles, MaxObjects: f.maxObjects})
	if err != nil {
		return fail("%v", err)
	}
	o := f.opts
	o.Count = in.Runs(count)
	return exitStatus("placer-bench", session.Compare(ctx, job, o, os.Stdout, os.Stderr))
}
