package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/placer-dev/placer/pkg/sim"

	"github.com/placer-dev/placer/pkg/bench/limits"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/trace"
	"github.com/placer-dev/placer/pkg/bench/trace/replay"
)

const traceUsage = `Usage:
  placer-bench trace openb --nodes NODES.csv --pods PODS.csv [flags]   replay an Alibaba OpenB trace
  placer-bench trace file FILE [flags]                                  replay a trace in the neutral format (docs/traces.md)
  placer-bench trace openb --nodes NODES.csv --pods PODS.csv --convert OUT.jsonl
                                                                        write it in the neutral format and stop

Each seed (--protocol fgd) or each of --count runs (timeline) is one run of each profile in a process
of its own; the table gives medians and intervals over them (docs/traces.md).
`

// traceCommand is `placer-bench trace`; its runs come back to parseTrace
// in their own processes (child.go).
func traceCommand(args []string) int {
	job, opts, code := parseTrace(args)
	if job == nil {
		return code
	}
	return runJob(job, opts)
}

// parseTrace reads the flags of `placer-bench trace` and the trace they
// name, checking everything before anything runs; a nil job comes with the
// exit code (0 after --convert).
func parseTrace(args []string) (*benchJob, runOptions, int) {
	fail := func(format string, a ...any) (*benchJob, runOptions, int) {
		fmt.Fprintf(os.Stderr, "placer-bench trace: "+format+"\n", a...)
		return nil, runOptions{}, 2
	}
	if len(args) == 0 || (args[0] != "openb" && args[0] != "file") {
		fmt.Fprint(os.Stderr, traceUsage+"Run 'placer-bench trace openb -h' for the flags.\n")
		return nil, runOptions{}, 2
	}
	format, rest := args[0], args[1:]
	var file string
	if format == "file" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		file, rest = rest[0], rest[1:]
	}
	fs := flag.NewFlagSet("trace "+format, flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, traceUsage+"\nFlags:\n"); fs.PrintDefaults() }
	nodesFile := fs.String("nodes", "", "openb: the node list (openb_node_list_*.csv)")
	podsFile := fs.String("pods", "", "openb: the pod list (openb_pod_list_*.csv)")
	convert := fs.String("convert", "", "write the trace in the neutral format (JSON Lines) to this file and stop")
	protocol := fs.String("protocol", trace.ProtocolFGD, "fgd: pods drawn per seed up to --target % of GPU capacity, offered one at a time, none departing; timeline: the trace's own arrivals and departures, times divided by --speed")
	seeds := fs.String("seed", "42", "fgd: the seeds, one replay each: N, N-M or a comma-separated list (the FGD paper uses 42-51)")
	target := fs.Float64("target", 130, fmt.Sprintf("fgd: draw pods until their GPU requests reach this %% of the cluster's GPU capacity (1 to %d)", trace.MaxTargetPercent))
	speed := fs.Float64("speed", 0, "timeline: divide the trace's times by this (required with --protocol timeline; the OpenB default trace spans 149 days)")
	backend := fs.String("backend", sim.BackendMemory, "where objects live: memory or embedded")
	var profiles listFlag
	fs.Var(&profiles, "profile", "scheduler profile: default, placer, or a KubeSchedulerConfiguration file (repeat to compare; the first is the baseline)")
	logFile := fs.String("log-file", defaultLogFile, "where scheduler and API server logs go, a file made 0600 (empty: discard)")
	out := fs.String("out", "", "directory for report.json, bench.txt, placements and report.html (default _output/bench/<run>)")
	cpuProfile := fs.Bool("cpuprofile", false, "write a Go CPU profile of each run to <out>/cpu-<profile>[-<run>].pprof")
	count := fs.Int("count", 1, "fgd: replays of each seed per profile; timeline: replays per profile")
	shuffle := fs.Bool("shuffle", false, "run the profiles of each round in an order drawn from the first seed")
	maxObjects := fs.Int("max-objects", 0, limits.FlagHelp)
	if err := fs.Parse(rest); err != nil {
		return nil, runOptions{}, 2
	}
	// The file may also follow the flags.
	if format == "file" && file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fail("unexpected arguments %v", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var t *trace.Trace
	var err error
	switch format {
	case "openb":
		if *nodesFile == "" || *podsFile == "" {
			return fail("openb needs --nodes NODES.csv and --pods PODS.csv")
		}
		t, err = trace.ReadOpenB(*nodesFile, *podsFile)
		file = *podsFile
	case "file":
		if file == "" {
			return fail("file needs the trace file: placer-bench trace file FILE [flags]")
		}
		if set["nodes"] || set["pods"] {
			return fail("--nodes and --pods are for openb; a neutral trace file holds both")
		}
		t, err = trace.ReadJSONL(file)
	}
	if err != nil {
		return fail("%v", err)
	}
	if *convert != "" {
		if err := writeConverted(*convert, t); err != nil {
			return fail("--convert %s: %v", *convert, err)
		}
		fmt.Fprintf(os.Stderr, "%s: %d nodes, %d pods\n", *convert, len(t.Nodes), len(t.Pods))
		return nil, runOptions{}, 0
	}

	if *count < 1 || *count > maxCount {
		return fail("--count %d: want 1 to %d", *count, maxCount)
	}
	ceiling, err := limits.Ceiling(*maxObjects)
	if err != nil {
		return fail("%v", err)
	}
	opts := replay.Options{Protocol: *protocol}
	var seedList []int64
	switch *protocol {
	case trace.ProtocolFGD:
		if set["speed"] {
			return fail("--speed is for --protocol timeline")
		}
		if seedList, err = trace.ParseSeeds(*seeds); err != nil {
			return fail("%v", err)
		}
		if *target < 1 || *target > trace.MaxTargetPercent {
			return fail("--target %g: want 1 to %d (%% of the cluster's GPU capacity)", *target, trace.MaxTargetPercent)
		}
		if len(seedList)**count > maxCount {
			return fail("%d seeds × --count %d: more than %d runs per profile", len(seedList), *count, maxCount)
		}
		opts.TargetPercent = *target
		// Every seed's draw within the ceiling, counted without being kept.
		if err := trace.CheckFGD(t, seedList, *target, ceiling); err != nil {
			return fail("%v", err)
		}
		// The draw is checked here, not in each run's process.
		if _, err := trace.DrawFGD(t, seedList[0], *target); err != nil {
			return fail("%v", err)
		}
	case trace.ProtocolTimeline:
		if set["seed"] || set["target"] {
			return fail("--seed and --target are for --protocol fgd")
		}
		if !set["speed"] {
			return fail("--protocol timeline needs --speed S (the trace's times are divided by S)")
		}
		opts.Speed = *speed
		events, err := trace.Timeline(t, *speed)
		if err != nil {
			return fail("%v", err)
		}
		if err := trace.CheckTimeline(t, events, ceiling); err != nil {
			return fail("%v", err)
		}
	default:
		return fail("--protocol %q: want %s or %s", *protocol, trace.ProtocolFGD, trace.ProtocolTimeline)
	}
	if *backend != sim.BackendMemory && *backend != sim.BackendEmbedded {
		return fail("--backend %q: want memory or embedded (a replay makes its own cluster of the trace's nodes)", *backend)
	}
	if len(profiles) == 0 {
		profiles = listFlag{"default", "placer"}
	}
	resolved, err := resolveProfiles(profiles)
	if err != nil {
		return fail("%v", err)
	}
	runs := *count
	if len(seedList) > 0 {
		runs = len(seedList) * *count
	}
	ro := runOptions{command: "trace", args: args, file: file, backend: *backend, logFile: *logFile, out: *out,
		cpuProfile: *cpuProfile, count: runs, shuffle: *shuffle}
	params := map[string]int{"nodes": len(t.Nodes), "tracePods": len(t.Pods)}
	if *protocol == trace.ProtocolFGD {
		params["seeds"], params["targetPercent"] = len(seedList), int(*target)
	}
	job := &benchJob{name: t.Name + "-" + *protocol, params: params, profiles: resolved}
	if len(seedList) > 0 {
		job.seed = seedList[0]
	}
	job.run = func(ctx context.Context, p *runner.Profile, b sim.Backend, runID string, bar *progress) (*result.Result, error) {
		o := opts
		o.RunID, o.Progress = runID, bar.update
		if len(seedList) > 0 {
			// Round r replays seed r of the list, the list repeated --count times.
			o.Seed = seedList[(job.round-1)%len(seedList)]
		}
		return replay.Run(ctx, t, p, b, o)
	}
	job.warnings = func(results []*result.Result) []string {
		var out []string
		for _, r := range results {
			n := 0
			if r.Trace != nil {
				for _, v := range r.Trace.NoVerdict {
					n += v
				}
			}
			if n > 0 {
				out = append(out, fmt.Sprintf("profile %s: %d pods left before the scheduler decided on them: --speed %g outpaces it; lower --speed", r.Profile, n, *speed))
			}
		}
		for _, r := range results {
			if r.Trace != nil && r.Trace.SharingPods > 0 {
				return append(out, fmt.Sprintf("GPU-sharing pods (gpu_milli < 1000) were offered as a whole nvidia.com/gpu each (gpuSharing: %q): no profile can share a GPU yet; the rest of each such GPU is idle and counts as unallocated", r.Trace.GPUSharing))
			}
		}
		return out
	}
	return job, ro, 0
}

func writeConverted(path string, t *trace.Trace) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := trace.WriteJSONL(f, t); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
