package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/placer-dev/placer/pkg/bench/live"
	"github.com/placer-dev/placer/pkg/bench/report"
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
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	file := fs.String("f", "", "workload file (see docs and examples/bench), or an upstream scheduler_perf performance-config.yaml (docs/upstream.md)")
	backend := fs.String("backend", runner.BackendMemory, "where objects live: "+strings.Join(runner.Backends, ", "))
	var profiles listFlag
	fs.Var(&profiles, "profile", "scheduler profile: default, placer, or a KubeSchedulerConfiguration file (repeat to compare; the first is the baseline)")
	sets := setFlag{}
	fs.Var(sets, "set", "override a workload param: name=value (repeatable)")
	caseName := fs.String("case", "", "with an upstream scheduler_perf file: the workload to run, NAME/WORKLOAD (the file's only one by default)")
	logFile := fs.String("log-file", filepath.Join(os.TempDir(), "placer-bench.log"), "where scheduler and API server logs go (empty: discard)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file for --backend kubeconfig (a real cluster; run KWOK there for runs longer than the node grace period)")
	out := fs.String("out", "", "directory for report.json, dataitems.json, bench.txt and placements (default _output/bench/<run>)")
	metricsAddr := fs.String("metrics-addr", "", "serve the run's live figures on http://ADDR/metrics for Prometheus, e.g. :9091 (empty: off)")
	cpuProfile := fs.Bool("cpuprofile", false, "write a Go CPU profile of each scheduler profile's run to <out>/cpu-<profile>.pprof (go tool pprof reads it)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" {
		fmt.Fprintln(os.Stderr, "placer-bench run: -f FILE is required")
		return 2
	}
	opts := runOptions{file: *file, backend: *backend, kubeconfig: *kubeconfig, logFile: *logFile, out: *out, cpuProfile: *cpuProfile, metricsAddr: *metricsAddr}
	// Everything that can be wrong with the input is found before anything runs.
	var job *benchJob
	var err error
	if upstreamFile(*file) {
		job, err = upstreamJob(*file, *caseName, sets, profiles)
	} else {
		if *caseName != "" {
			fmt.Fprintf(os.Stderr, "placer-bench: --case is for upstream scheduler_perf files; %s is a workload file\n", *file)
			return 2
		}
		job, err = workloadJob(*file, sets, profiles)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: %v\n", err)
		return 2
	}
	return runJob(job, opts)
}

// runOptions are the flags every file format shares.
type runOptions struct {
	file, backend, kubeconfig, logFile, out, metricsAddr string
	cpuProfile                                           bool
}

// benchJob is one file ready to run, whatever its format: the loop over
// profiles, the table and the reports are the same for all.
type benchJob struct {
	// name names the run and its reports.
	name     string
	params   map[string]int
	profiles []*runner.Profile
	// newBackend starts a fresh in-process backend; nil means
	// runner.NewBackend.
	newBackend func(ctx context.Context, name string) (runner.Backend, error)
	run        func(ctx context.Context, p *runner.Profile, backend runner.Backend, runID string, bar *progress) (*runner.Result, error)
	// setup runs before the first backend starts; the func it returns, after
	// the last profile.
	setup func() (func(), error)
	// warnings are printed after the table.
	warnings func(results []*runner.Result) []string
	// observer, set with --metrics-addr, follows each profile's run.
	observer runner.Observer
}

// workloadJob reads a placer-bench workload file.
func workloadJob(file string, sets setFlag, profiles listFlag) (*benchJob, error) {
	f, err := workload.Load(file, sets)
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
	job := &benchJob{name: f.Name, params: f.Params, profiles: resolved}
	job.run = func(ctx context.Context, p *runner.Profile, backend runner.Backend, runID string, bar *progress) (*runner.Result, error) {
		return runner.Run(ctx, f, p, backend, runner.Options{RunID: runID, Progress: bar.update, Observer: job.observer})
	}
	// A barrier or drill that gave up means the figures cover only part of
	// the pods.
	job.warnings = func(results []*runner.Result) []string {
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

func resolveProfiles(specs []string) ([]*runner.Profile, error) {
	var resolved []*runner.Profile
	for _, p := range specs {
		rp, err := runner.ResolveProfile(p)
		if err != nil {
			return nil, err
		}
		resolved = append(resolved, rp)
	}
	return resolved, nil
}

func runJob(job *benchJob, o runOptions) int {
	if !slices.Contains(runner.Backends, o.backend) {
		fmt.Fprintf(os.Stderr, "placer-bench: --backend %q: want one of %v\n", o.backend, runner.Backends)
		return 2
	}
	if o.backend == runner.BackendKubeconfig && o.kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "placer-bench: --backend kubeconfig needs --kubeconfig FILE")
		return 2
	}
	closeLog, err := quietLogs(o.logFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: --log-file=%s: %v\n", o.logFile, err)
		return 2
	}
	defer closeLog()
	if job.setup != nil {
		undo, err := job.setup()
		if err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench: %v\n", err)
			return 2
		}
		defer undo()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	runID := fmt.Sprintf("%s-%d", runName(job.name), started.Unix())
	if o.out == "" {
		o.out = filepath.Join("_output", "bench", runID)
	}
	// A real cluster is connected to once and cleared between profiles (the
	// connection is checked before anything runs); the in-process backends
	// start afresh for each profile.
	var shared runner.Backend
	if o.backend == runner.BackendKubeconfig {
		shared, err = runner.NewKubeconfigBackend(ctx, o.kubeconfig, runID)
		if err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench: %v\n", err)
			return 2
		}
		defer func() {
			if err := shared.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "placer-bench: cleaning up the cluster: %v\n", err)
			}
		}()
	}
	var liveMetrics *live.Metrics
	if o.metricsAddr != "" {
		liveMetrics = live.New()
		addr, err := liveMetrics.Serve(ctx, o.metricsAddr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench: %v\n", err)
			return 2
		}
		fmt.Fprintf(os.Stderr, "live metrics: http://%s/metrics\n", addr)
		job.observer = liveMetrics
	}
	var results []*runner.Result
	code := 0
	bar := newProgress(os.Stderr)
	for _, p := range job.profiles {
		fmt.Fprintf(os.Stderr, "profile %s on %s backend:\n", p.Name, o.backend)
		if liveMetrics != nil {
			liveMetrics.StartProfile(p.Name)
		}
		var stopCPU func() error
		if o.cpuProfile {
			if stopCPU, err = startCPUProfile(filepath.Join(o.out, "cpu-"+p.Name+".pprof")); err != nil {
				fmt.Fprintf(os.Stderr, "placer-bench: --cpuprofile: %v\n", err)
				code = 1
				break
			}
		}
		res, err := runProfile(ctx, job, p, o.backend, runID, shared, bar)
		if stopCPU != nil {
			if err := stopCPU(); err != nil {
				fmt.Fprintf(os.Stderr, "placer-bench: --cpuprofile: %v\n", err)
				code = 1
			}
		}
		bar.finish()
		if res != nil {
			results = append(results, res)
		}
		if ctx.Err() != nil {
			// Ctrl-C: what was measured is reported below, and the deferred
			// clean-ups remove what the run created.
			fmt.Fprintf(os.Stderr, "placer-bench: interrupted during profile %s; reporting what was measured\n", p.Name)
			code = 130
			break
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench: profile %s: %v\n", p.Name, err)
			code = 1
			break
		}
	}
	fmt.Println()
	runner.PrintTable(os.Stdout, results)
	if job.warnings != nil {
		for _, w := range job.warnings(results) {
			fmt.Printf("\nwarning: %s\n", w)
		}
	}
	// What was measured is written even when a profile failed or the run
	// was interrupted.
	rep := &report.Report{Workload: job.name, File: o.file, Params: job.params, Backend: o.backend, RunID: runID, Started: started, Profiles: results}
	if err := report.Write(o.out, rep); err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: writing the report: %v\n", err)
		code = 1
	} else {
		fmt.Printf("\nreport: %s\npage: %s\n", o.out, filepath.Join(o.out, report.PageFile))
	}
	if o.logFile != "" {
		fmt.Printf("logs: %s\n", o.logFile)
	}
	return code
}

// runNameUnsafe are the characters a run ID (a directory name and a label
// value) cannot carry: upstream names are "<case>/<workload>".
var runNameUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// runName makes a workload's name fit in a run ID: a label value of at most
// 63 characters, the Unix time appended.
func runName(name string) string {
	name = runNameUnsafe.ReplaceAllString(name, "-")
	if len(name) > 50 {
		name = strings.TrimRight(name[:50], "-_.")
	}
	return name
}

func runProfile(ctx context.Context, job *benchJob, p *runner.Profile, backendName, runID string, shared runner.Backend, bar *progress) (*runner.Result, error) {
	backend := shared
	if backend == nil {
		var err error
		if job.newBackend != nil {
			backend, err = job.newBackend(ctx, backendName)
		} else {
			backend, err = runner.NewBackend(ctx, backendName, "")
		}
		if err != nil {
			return nil, err
		}
		defer backend.Close()
	} else if r, ok := backend.(runner.Resetter); ok {
		defer func() {
			if err := r.Reset(); err != nil {
				fmt.Fprintf(os.Stderr, "placer-bench: clearing the cluster after profile %s: %v\n", p.Name, err)
			}
		}()
	}
	return job.run(ctx, p, backend, runID, bar)
}

// startCPUProfile profiles the whole process (scheduler and harness alike:
// they share it on the in-process backends) until the returned func is called.
func startCPUProfile(path string) (func() error, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
