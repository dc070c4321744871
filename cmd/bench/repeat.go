package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/placer-dev/placer/pkg/sim"

	"github.com/placer-dev/placer/pkg/bench/live"
	"github.com/placer-dev/placer/pkg/bench/report"
	"github.com/placer-dev/placer/pkg/bench/result"
)

// runJob runs every profile --count times, round by round, each run in a
// process of its own (`placer-bench run-profile`, child.go): a run starts
// from a fresh heap, scheduler and backend, and no goroutine, informer or
// cache of one run can show in another's figures. This process only orders
// the runs, relays live metrics, passes Ctrl-C on, and reports.
func runJob(job *benchJob, o runOptions) int {
	started := time.Now()
	runID := newRunID(job.name, started)
	if o.out == "" {
		o.out = filepath.Join("_output", "bench", runID)
	}
	// By default the logs are the run's own: a new file beside its report,
	// readable by its owner only (a fixed name in a shared /tmp is neither).
	if o.logFile == defaultLogFile {
		o.logFile = filepath.Join(o.out, "placer-bench.log")
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench: --out %s: %v\n", o.out, err)
			return 2
		}
	}
	closeLog, err := quietLogs(o.logFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: --log-file=%s: %v\n", o.logFile, err)
		return 2
	}
	defer closeLog()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A real cluster is checked before anything runs. Each run clears what it
	// made; the namespaces the runs created are deleted once, here, at the
	// end (a namespace being deleted could not take the next run's objects).
	var cluster sim.Backend
	if o.backend == sim.BackendKubeconfig {
		cluster, err = sim.NewKubeconfigBackend(ctx, o.kubeconfig, runID)
		if err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench: %v\n", err)
			return 2
		}
		defer func() {
			if err := cluster.Close(); err != nil {
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
	}
	specDir, err := os.MkdirTemp("", "placer-bench-runs-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: %v\n", err)
		return 1
	}
	defer os.RemoveAll(specDir)

	rep := &report.Report{Workload: job.name, File: o.file, Params: job.params, Backend: o.backend, RunID: runID,
		Started: started, Count: o.count, Runs: make([][]*result.Result, len(job.profiles))}
	code := 0
rounds:
	for round, order := range runOrder(len(job.profiles), o.count, o.shuffle, job.seed) {
		// The round's row of rep.Order, filled as its runs start.
		rep.Order = append(rep.Order, nil)
		for _, i := range order {
			p := job.profiles[i]
			rep.Order[round] = append(rep.Order[round], p.Name)
			which := ""
			if o.count > 1 {
				which = fmt.Sprintf(", run %d of %d", round+1, o.count)
			}
			fmt.Fprintf(os.Stderr, "profile %s on %s backend%s:\n", p.Name, o.backend, which)
			if liveMetrics != nil {
				liveMetrics.StartProfile(p.Name)
			}
			spec := childSpec{Command: o.command, Args: o.args, Profile: i, Run: round + 1, RunID: runID, Relay: liveMetrics != nil,
				LogFile: o.logFile, Result: filepath.Join(specDir, fmt.Sprintf("result-%d-%d.json", i, round+1))}
			if o.cpuProfile {
				spec.CPUProfile = filepath.Join(o.out, cpuProfileName(p.Name, round+1, o.count))
			}
			outcome, err := runChild(ctx, spec, specDir, liveMetrics)
			if outcome != nil && outcome.Result != nil {
				rep.Runs[i] = append(rep.Runs[i], outcome.Result)
			}
			if outcome != nil && cluster != nil {
				for _, ns := range outcome.UsedNamespaces {
					cluster.UsedNamespace(ns, false)
				}
				for _, ns := range outcome.CreatedNamespaces {
					cluster.UsedNamespace(ns, true)
				}
			}
			if ctx.Err() != nil {
				// Ctrl-C: what was measured is reported below; the run's
				// process removed what it created, and the deferred
				// clean-ups remove the rest.
				fmt.Fprintf(os.Stderr, "placer-bench: interrupted during profile %s; reporting what was measured\n", p.Name)
				code = 130
				break rounds
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "placer-bench: profile %s: %v\n", p.Name, err)
				code = 1
				break rounds
			}
		}
	}
	// A profile that never finished a run has no column.
	var runs [][]*result.Result
	for _, r := range rep.Runs {
		if len(r) > 0 {
			runs = append(runs, r)
		}
	}
	rep.Runs = runs
	rep.Summarize()
	fmt.Println()
	result.PrintTable(os.Stdout, rep.Comparison)
	if job.warnings != nil {
		var all []*result.Result
		for _, r := range rep.Runs {
			all = append(all, r...)
		}
		for _, w := range job.warnings(all) {
			fmt.Printf("\nwarning: %s\n", w)
		}
	}
	// What was measured is written even when a run failed or the whole
	// was interrupted.
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

// runOrder lists, round by round, the order the profiles run in: as given,
// or with shuffle an order drawn from seed, so that a drift of the machine
// (a build starting beside the run, a cache warming) hits every profile
// alike rather than the ones that happen to run last.
func runOrder(profiles, count int, shuffle bool, seed int64) [][]int {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	out := make([][]int, count)
	for round := range out {
		out[round] = make([]int, profiles)
		for i := range out[round] {
			out[round][i] = i
		}
		if shuffle {
			rng.Shuffle(profiles, func(i, j int) { out[round][i], out[round][j] = out[round][j], out[round][i] })
		}
	}
	return out
}

func cpuProfileName(profile string, run, count int) string {
	if count == 1 {
		return "cpu-" + profile + ".pprof"
	}
	return fmt.Sprintf("cpu-%s-%d.pprof", profile, run)
}

// runChild runs one profile once in a process of its own and returns what
// it measured. Ctrl-C (ctx) is passed on to the process, which then reports
// what it measured so far and cleans up, as a whole run does.
func runChild(ctx context.Context, spec childSpec, dir string, liveMetrics *live.Metrics) (*childOutcome, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	specFile := filepath.Join(dir, fmt.Sprintf("spec-%d-%d.json", spec.Profile, spec.Run))
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(specFile, data, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(self, childCommand, "--spec", specFile)
	// The table is this process's stdout; the run's progress and errors go
	// to stderr, as before.
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	var relayDone chan error
	if liveMetrics != nil {
		rd, wr, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		cmd.ExtraFiles = []*os.File{wr} // fd 3 in the run's process
		relayDone = make(chan error, 1)
		go func() { relayDone <- liveMetrics.Replay(rd); rd.Close() }()
		defer func() { wr.Close() }()
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if len(cmd.ExtraFiles) > 0 {
		// The child holds its own copy; ours must close for the relay to end.
		cmd.ExtraFiles[0].Close()
	}
	exited := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Signal(os.Interrupt)
		case <-exited:
		}
	}()
	waitErr := cmd.Wait()
	close(exited)
	if relayDone != nil {
		if err := <-relayDone; err != nil {
			fmt.Fprintf(os.Stderr, "placer-bench: %v\n", err)
		}
	}
	outcome, readErr := readOutcome(spec.Result)
	if readErr != nil {
		return nil, fmt.Errorf("the run's process ended without a result (%v): %w", waitErr, readErr)
	}
	if outcome.Error != "" {
		return outcome, errors.New(outcome.Error)
	}
	return outcome, nil
}

func readOutcome(path string) (*childOutcome, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out childOutcome
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if out.Result != nil {
		out.Result.SetPlacements(out.Placements)
	}
	return &out, nil
}
