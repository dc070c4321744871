package session

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/sim"
)

// Timer is what InProcess stops while a backend starts and stops, so that
// it times the runs only: a *testing.B.
type Timer interface {
	StartTimer()
	StopTimer()
}

// InProcess makes each run in the calling process, on a fresh backend (a
// real cluster is cleared after the run instead): what a run's own process
// does, and what testkit.Bench does b.N times.
type InProcess struct {
	// Dir gives each run's backend its directory (the embedded backend's
	// files); nil: one the backend makes and removes.
	Dir func() string
	// Progress, when set, shows how each run advances: a bar redrawn in
	// place on a terminal, a line per update elsewhere.
	Progress *os.File
	// Observer, when set, follows each run's ops and pods.
	Observer runner.Observer
	// Timer, when set, runs during the runs only.
	Timer Timer
}

// Execute makes run r of s. A job's setup (an upstream workload's feature
// gates) that fails is an *ExitError with code 2: the input was wrong.
func (e *InProcess) Execute(ctx context.Context, s *Session, r Run) (*Outcome, error) {
	e.stopTimer()
	job := s.Job
	if job.setup != nil {
		undo, err := job.setup()
		if err != nil {
			return nil, &ExitError{Code: 2, Err: err}
		}
		defer undo()
	}
	dir := ""
	if e.Dir != nil {
		dir = e.Dir()
	}
	backend, cleanup, err := openBackend(ctx, job, s.Options, s.RunID, dir)
	if err != nil {
		return nil, fmt.Errorf("starting the %s backend: %w", s.Options.Backend, err)
	}
	rc := RunContext{RunID: s.RunID, Round: r.Round, Observer: e.Observer}
	var bar *progress
	if e.Progress != nil {
		bar = newProgress(e.Progress)
		rc.Progress = bar.update
	}
	e.startTimer()
	res, runErr := job.run(ctx, job.Profiles[r.Profile], backend, rc)
	e.stopTimer()
	if bar != nil {
		bar.finish()
	}
	out := &Outcome{Result: res}
	out.UsedNamespaces, out.CreatedNamespaces = backend.Namespaces()
	if err := cleanup(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	return out, runErr
}

func (e *InProcess) startTimer() {
	if e.Timer != nil {
		e.Timer.StartTimer()
	}
}

func (e *InProcess) stopTimer() {
	if e.Timer != nil {
		e.Timer.StopTimer()
	}
}

// openBackend starts the run's backend; cleanup closes it, or on a real
// cluster removes what the run created but the namespaces, which the
// session deletes once all runs are done.
func openBackend(ctx context.Context, job *Job, o Options, runID, dir string) (sim.Backend, func() error, error) {
	if o.Backend == sim.BackendKubeconfig {
		b, err := sim.NewKubeconfigBackend(ctx, o.Kubeconfig, runID, o.Controllers)
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
		b, err = job.newBackend(ctx, o.Backend, dir)
	} else {
		b, err = sim.NewBackend(ctx, o.Backend, dir)
	}
	if err != nil {
		return nil, nil, err
	}
	return b, func() error {
		if err := b.Close(); err != nil {
			return fmt.Errorf("stopping the %s backend: %w", o.Backend, err)
		}
		return nil
	}, nil
}
