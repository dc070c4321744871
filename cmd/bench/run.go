package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/placer-dev/placer/pkg/sim"

	"github.com/placer-dev/placer/pkg/bench/limits"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/workload"
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

func runBench(args []string) int {
	job, opts, code := parseRun(args)
	if job == nil {
		return code
	}
	return runJob(job, opts)
}

// defaultLogFile stands for the run's own log file, placer-bench.log in its
// output directory, which is known only once the run has an ID.
const defaultLogFile = "<out>/placer-bench.log"

// maxCount bounds --count: a thousand runs of each profile is far past
// what any interval needs.
const maxCount = 1000

// parseRun reads the flags of `placer-bench run` and the file they name.
// Everything that can be wrong with the input is found here, before
// anything runs; a nil job comes with the exit code. A profile's own process
// parses the same arguments again, so both see the same job.
func parseRun(args []string) (*benchJob, runOptions, int) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	file := fs.String("f", "", "workload file (see docs and examples/bench), or an upstream scheduler_perf performance-config.yaml (docs/upstream.md)")
	backend := fs.String("backend", sim.BackendMemory, "where objects live: "+strings.Join(sim.Backends, ", "))
	var profiles listFlag
	fs.Var(&profiles, "profile", "scheduler profile: default, placer, or a KubeSchedulerConfiguration file (repeat to compare; the first is the baseline)")
	sets := setFlag{}
	fs.Var(sets, "set", "override a workload param: name=value (repeatable)")
	caseName := fs.String("case", "", "with an upstream scheduler_perf file: the workload to run, NAME/WORKLOAD (the file's only one by default)")
	logFile := fs.String("log-file", defaultLogFile, "where scheduler and API server logs go, a file made 0600 (empty: discard)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file for --backend kubeconfig (a real cluster; run KWOK there for runs longer than the node grace period)")
	out := fs.String("out", "", "directory for report.json, dataitems.json, bench.txt and placements (default _output/bench/<run>)")
	metricsAddr := fs.String("metrics-addr", "", "serve the run's live figures on http://ADDR/metrics for Prometheus, e.g. :9091 (empty: off)")
	cpuProfile := fs.Bool("cpuprofile", false, "write a Go CPU profile of each run to <out>/cpu-<profile>[-<run>].pprof (go tool pprof reads it)")
	count := fs.Int("count", 1, fmt.Sprintf("run each profile this many times (1 to %d), interleaved A B A B ..., each run in a process of its own; 6 or more give 95%% intervals", maxCount))
	shuffle := fs.Bool("shuffle", false, "run the profiles of each round in an order drawn from the workload's seed, instead of as given")
	maxObjects := fs.Int("max-objects", 0, limits.FlagHelp)
	if err := fs.Parse(args); err != nil {
		return nil, runOptions{}, 2
	}
	if *file == "" {
		fmt.Fprintln(os.Stderr, "placer-bench run: -f FILE is required")
		return nil, runOptions{}, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "placer-bench run: unexpected arguments %v (flags go before nothing else)\n", fs.Args())
		return nil, runOptions{}, 2
	}
	if *count < 1 || *count > maxCount {
		fmt.Fprintf(os.Stderr, "placer-bench run: --count %d: want 1 to %d runs per profile\n", *count, maxCount)
		return nil, runOptions{}, 2
	}
	opts := runOptions{args: args, file: *file, backend: *backend, kubeconfig: *kubeconfig, logFile: *logFile, out: *out,
		cpuProfile: *cpuProfile, metricsAddr: *metricsAddr, count: *count, shuffle: *shuffle}
	var job *benchJob
	var err error
	if upstreamFile(*file) {
		job, err = upstreamJob(*file, *caseName, sets, profiles, *maxObjects)
	} else {
		if *caseName != "" {
			fmt.Fprintf(os.Stderr, "placer-bench: --case is for upstream scheduler_perf files; %s is a workload file\n", *file)
			return nil, runOptions{}, 2
		}
		job, err = workloadJob(*file, sets, profiles, *maxObjects)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: %v\n", err)
		return nil, runOptions{}, 2
	}
	if !slices.Contains(sim.Backends, opts.backend) {
		fmt.Fprintf(os.Stderr, "placer-bench: --backend %q: want one of %v\n", opts.backend, sim.Backends)
		return nil, runOptions{}, 2
	}
	if opts.backend == sim.BackendKubeconfig && opts.kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "placer-bench: --backend kubeconfig needs --kubeconfig FILE")
		return nil, runOptions{}, 2
	}
	return job, opts, 0
}

// runOptions are the flags every file format shares.
type runOptions struct {
	// command is the subcommand whose parser each run's process uses
	// again ("run" when empty, "trace"); args are its arguments as given.
	command                                              string
	args                                                 []string
	file, backend, kubeconfig, logFile, out, metricsAddr string
	cpuProfile, shuffle                                  bool
	count                                                int
}

// benchJob is one file ready to run, whatever its format: the loop over
// profiles, the table and the reports are the same for all.
type benchJob struct {
	// name names the run and its reports.
	name     string
	params   map[string]int
	profiles []*runner.Profile
	// seed orders the profiles of each round with --shuffle.
	seed int64
	// newBackend starts a fresh in-process backend; nil means
	// sim.NewBackend.
	newBackend func(ctx context.Context, name string) (sim.Backend, error)
	run        func(ctx context.Context, p *runner.Profile, backend sim.Backend, runID string, bar *progress) (*result.Result, error)
	// setup runs before the first backend starts; the func it returns, after
	// the last profile.
	setup func() (func(), error)
	// warnings are printed after the table.
	warnings func(results []*result.Result) []string
	// observer, set with --metrics-addr, follows each profile's run.
	observer runner.Observer
	// round is the run this process makes, from 1 (a trace replay's seed
	// follows from it); set in each run's own process.
	round int
}

// workloadJob reads a placer-bench workload file.
func workloadJob(file string, sets setFlag, profiles listFlag, maxObjects int) (*benchJob, error) {
	f, err := workload.LoadWithCeiling(file, sets, maxObjects)
	if err != nil {
		return nil, err
	}
	if len(profiles) == 0 {
		profiles = listFlag{"default", "placer"}
	}
	resolved, err := resolveProfiles(profiles)
	if err != nil {
		return nil, err
	}
	job := &benchJob{name: f.Name, params: f.Params, profiles: resolved, seed: f.Seed}
	job.run = func(ctx context.Context, p *runner.Profile, backend sim.Backend, runID string, bar *progress) (*result.Result, error) {
		return runner.Run(ctx, f, p, backend, runner.Options{RunID: runID, Progress: bar.update, Observer: job.observer})
	}
	// A barrier or drill that gave up means the figures cover only part of
	// the pods.
	job.warnings = func(results []*result.Result) []string {
		var out []string
		for _, res := range results {
			for _, ph := range res.Phases {
				if ph.TimedOut {
					out = append(out, fmt.Sprintf("profile %s: ops[%d] (%s) timed out after %v; %d of %d pods were scheduled",
						res.Profile, ph.Index, ph.Op, ph.Duration.Round(time.Second), res.Scheduled, res.Pods))
				}
			}
		}
		return out
	}
	return job, nil
}

// resolveProfiles reads each --profile. A profile given twice (an A/A
// comparison) is named apart: "default", "default-2".
func resolveProfiles(specs []string) ([]*runner.Profile, error) {
	var resolved []*runner.Profile
	seen := map[string]int{}
	for _, p := range specs {
		rp, err := runner.ResolveProfile(p)
		if err != nil {
			return nil, err
		}
		seen[rp.Name]++
		if n := seen[rp.Name]; n > 1 {
			rp.Name = fmt.Sprintf("%s-%d", rp.Name, n)
		}
		resolved = append(resolved, rp)
	}
	return resolved, nil
}

// runNameUnsafe are the characters a run ID (a directory name and a label
// value) cannot carry: upstream names are "<case>/<workload>".
var runNameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// newRunID names a run: the workload's name, the Unix time and 6 random hex
// digits, so that two runs started in the same second (two terminals, two CI
// jobs on one cluster) never share the label their clean-up selects by.
// It fits a label value (63 characters at most) and a directory name.
func newRunID(name string, started time.Time) string {
	var suffix [3]byte
	_, _ = rand.Read(suffix[:]) // crypto/rand.Read does not fail on Linux
	return fmt.Sprintf("%s-%d-%s", runName(name), started.Unix(), hex.EncodeToString(suffix[:]))
}

// runName makes a workload's name fit in a run ID: at most 40 characters, so
// that with the Unix time and the random suffix the ID stays a valid label.
func runName(name string) string {
	name = runNameUnsafe.ReplaceAllString(name, "-")
	if len(name) > 40 {
		name = strings.TrimRight(name[:40], "-_.")
	}
	return name
}
