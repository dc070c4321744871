package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"

	"github.com/placer-dev/placer/pkg/sim"

	"github.com/placer-dev/placer/pkg/bench/live"
	"github.com/placer-dev/placer/pkg/bench/result"
)

// childCommand is the hidden subcommand that makes one run of one profile:
// `placer-bench run` starts it once per profile and repetition.
const childCommand = "run-profile"

// childSpec tells a run's process what to run. It parses the same
// arguments as its parent, so both see the same job.
type childSpec struct {
	// Command is the subcommand whose parser reads Args ("run" when empty).
	Command string   `json:"command,omitempty"`
	Args    []string `json:"args"`
	Profile int      `json:"profile"`
	Run     int      `json:"run"`
	RunID   string   `json:"runID"`
	// Result is where the process writes its childOutcome.
	Result     string `json:"result"`
	CPUProfile string `json:"cpuProfile,omitempty"`
	// Relay: live events go to file descriptor 3, for --metrics-addr.
	Relay bool `json:"relay,omitempty"`
	// LogFile is where the parent sends the logs (the default resolved to
	// the run's directory); the run appends to it.
	LogFile string `json:"logFile"`
}

// childOutcome is what a run's process hands back.
type childOutcome struct {
	Result     *result.Result     `json:"result,omitempty"`
	Placements []result.Placement `json:"placements,omitempty"`
	// On a real cluster: the namespaces the run put objects in, and those
	// it created (the parent deletes these at the end).
	UsedNamespaces    []string `json:"usedNamespaces,omitempty"`
	CreatedNamespaces []string `json:"createdNamespaces,omitempty"`
	Error             string   `json:"error,omitempty"`
}

// runProfileCommand is `placer-bench run-profile --spec FILE`.
func runProfileCommand(args []string) int {
	fs := flag.NewFlagSet(childCommand, flag.ContinueOnError)
	specFile := fs.String("spec", "", "the run to make (written by placer-bench run)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	data, err := os.ReadFile(*specFile)
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench %s: %v (this command is placer-bench run's own)\n", childCommand, err)
		return 2
	}
	var spec childSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench %s: %s: %v\n", childCommand, *specFile, err)
		return 2
	}
	parse := parseRun
	if spec.Command == "trace" {
		parse = parseTrace
	}
	job, o, code := parse(spec.Args)
	if job == nil {
		return code
	}
	if spec.Profile < 0 || spec.Profile >= len(job.profiles) {
		fmt.Fprintf(os.Stderr, "placer-bench %s: profile %d of %d\n", childCommand, spec.Profile, len(job.profiles))
		return 2
	}
	outcome, code := runOnce(job, o, spec)
	outcome.Error = errorText(outcome.Error, code)
	data, err = json.Marshal(outcome)
	if err == nil {
		err = os.WriteFile(spec.Result, data, 0o600)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "placer-bench: handing the result back: %v\n", err)
		return 1
	}
	return code
}

func errorText(msg string, code int) string {
	if msg == "" && code != 0 && code != 130 {
		return fmt.Sprintf("the run failed (exit %d)", code)
	}
	return msg
}

// runOnce makes the run: a fresh backend (a real cluster is cleared after
// the run instead), the scheduler and the workload, all in this process.
func runOnce(job *benchJob, o runOptions, spec childSpec) (*childOutcome, int) {
	out := &childOutcome{}
	// After what the parent and the runs before this one wrote.
	o.logFile = spec.LogFile
	closeLog, err := logTo(o.logFile, os.O_APPEND)
	if err != nil {
		out.Error = fmt.Sprintf("--log-file=%s: %v", o.logFile, err)
		return out, 2
	}
	defer closeLog()
	if job.setup != nil {
		undo, err := job.setup()
		if err != nil {
			out.Error = err.Error()
			return out, 2
		}
		defer undo()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if spec.Relay {
		relay := os.NewFile(3, "live-relay")
		defer relay.Close()
		job.observer = live.NewRelay(relay)
	}
	if spec.CPUProfile != "" {
		stopCPU, err := startCPUProfile(spec.CPUProfile)
		if err != nil {
			out.Error = fmt.Sprintf("--cpuprofile: %v", err)
			return out, 1
		}
		defer func() {
			if err := stopCPU(); err != nil {
				fmt.Fprintf(os.Stderr, "placer-bench: --cpuprofile: %v\n", err)
			}
		}()
	}
	p := job.profiles[spec.Profile]
	job.round = spec.Run
	backend, cleanup, err := openBackend(ctx, job, o, spec.RunID)
	if err != nil {
		out.Error = err.Error()
		return out, 1
	}
	bar := newProgress(os.Stderr)
	res, runErr := job.run(ctx, p, backend, spec.RunID, bar)
	bar.finish()
	out.UsedNamespaces, out.CreatedNamespaces = backend.Namespaces()
	if err := cleanup(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if res != nil {
		res.PID = os.Getpid()
		out.Result, out.Placements = res, res.Placements()
	}
	switch {
	case ctx.Err() != nil:
		return out, 130
	case runErr != nil:
		out.Error = runErr.Error()
		return out, 1
	}
	return out, 0
}

// openBackend starts the run's backend; cleanup closes it, or on a real
// cluster removes what the run created but the namespaces, which the
// parent deletes once all runs are done.
func openBackend(ctx context.Context, job *benchJob, o runOptions, runID string) (sim.Backend, func() error, error) {
	if o.backend == sim.BackendKubeconfig {
		b, err := sim.NewKubeconfigBackend(ctx, o.kubeconfig, runID)
		if err != nil {
			return nil, nil, err
		}
		return b, func() error {
			if err := b.Reset(); err != nil {
				return fmt.Errorf("clearing the cluster after the run: %w", err)
			}
			return nil
		}, nil
	}
	var b sim.Backend
	var err error
	if job.newBackend != nil {
		b, err = job.newBackend(ctx, o.backend)
	} else {
		b, err = sim.NewBackend(ctx, o.backend, "")
	}
	if err != nil {
		return nil, nil, err
	}
	return b, b.Close, nil
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
