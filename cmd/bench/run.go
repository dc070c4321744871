package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

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
	file := fs.String("f", "", "workload file (see docs and examples/bench)")
	backend := fs.String("backend", runner.BackendMemory, "where objects live: "+strings.Join(runner.Backends, ", "))
	var profiles listFlag
	fs.Var(&profiles, "profile", "scheduler profile: default, placer, or a KubeSchedulerConfiguration file (repeat to compare; the first is the baseline)")
	sets := setFlag{}
	fs.Var(sets, "set", "override a workload param: name=value (repeatable)")
	logFile := fs.String("log-file", filepath.Join(os.TempDir(), "placer-bench.log"), "where scheduler and API server logs go (empty: discard)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file for --backend kubeconfig (a real cluster; run KWOK there for runs longer than the node grace period)")
	out := fs.String("out", "", "directory for report.json, dataitems.json, bench.txt and placements (default _output/bench/<run>)")
	cpuProfile := fs.Bool("cpuprofile", false, "write a Go CPU profile of each scheduler profile's run to <out>/cpu-<profile>.pprof (go tool pprof reads it)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" {
		fmt.Fprintln(os.Stderr, "placer-bench run: -f FILE is required")
		return 2
	}
	if len(profiles) == 0 {
		profiles = listFlag{"default", "placer"}
	}
	// Everything that can be wrong with the input is found before anything runs.
	f, err := workload.Load(*file, sets)
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: %v\n", err)
		return 2
	}
	var resolved []*runner.Profile
	for _, p := range profiles {
		rp, err := runner.ResolveProfile(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench: %v\n", err)
			return 2
		}
		resolved = append(resolved, rp)
	}
	if !slices.Contains(runner.Backends, *backend) {
		fmt.Fprintf(os.Stderr, "placer-bench: --backend %q: want one of %v\n", *backend, runner.Backends)
		return 2
	}
	if *backend == runner.BackendKubeconfig && *kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "placer-bench: --backend kubeconfig needs --kubeconfig FILE")
		return 2
	}
	closeLog, err := quietLogs(*logFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: --log-file=%s: %v\n", *logFile, err)
		return 2
	}
	defer closeLog()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	started := time.Now()
	runID := fmt.Sprintf("%s-%d", f.Name, started.Unix())
	if *out == "" {
		*out = filepath.Join("_output", "bench", runID)
	}
	// A real cluster is connected to once and cleared between profiles (the
	// connection is checked before anything runs); the in-process backends
	// start afresh for each profile.
	var shared runner.Backend
	if *backend == runner.BackendKubeconfig {
		shared, err = runner.NewKubeconfigBackend(ctx, *kubeconfig, runID)
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
	var results []*runner.Result
	code := 0
	bar := newProgress(os.Stderr)
	for _, p := range resolved {
		fmt.Fprintf(os.Stderr, "profile %s on %s backend:\n", p.Name, *backend)
		var stopCPU func() error
		if *cpuProfile {
			if stopCPU, err = startCPUProfile(filepath.Join(*out, "cpu-"+p.Name+".pprof")); err != nil {
				fmt.Fprintf(os.Stderr, "placer-bench: --cpuprofile: %v\n", err)
				code = 1
				break
			}
		}
		res, err := runProfile(ctx, f, p, *backend, runID, shared, bar)
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
	// A barrier that gave up means the figures cover only part of the pods.
	for _, res := range results {
		for _, ph := range res.Phases {
			if ph.TimedOut {
				fmt.Printf("\nwarning: profile %s: ops[%d] (barrier) timed out after %v; %d of %d pods were scheduled\n",
					res.Profile, ph.Index, ph.Duration.Round(time.Second), res.Scheduled, res.Pods)
			}
		}
	}
	// What was measured is written even when a profile failed or the run
	// was interrupted.
	rep := &report.Report{Workload: f.Name, File: *file, Params: f.Params, Backend: *backend, RunID: runID, Started: started, Profiles: results}
	if err := report.Write(*out, rep); err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: writing the report: %v\n", err)
		code = 1
	} else {
		fmt.Printf("\nreport: %s\n", *out)
	}
	if *logFile != "" {
		fmt.Printf("logs: %s\n", *logFile)
	}
	return code
}

func runProfile(ctx context.Context, f *workload.File, p *runner.Profile, backendName, runID string, shared runner.Backend, bar *progress) (*runner.Result, error) {
	backend := shared
	if backend == nil {
		var err error
		if backend, err = runner.NewBackend(ctx, backendName, ""); err != nil {
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
	return runner.Run(ctx, f, p, backend, runner.Options{RunID: runID, Progress: bar.update})
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
