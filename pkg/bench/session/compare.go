package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/placer-dev/placer/internal/klogfile"
	"github.com/placer-dev/placer/pkg/sim"

	"github.com/placer-dev/placer/pkg/bench/live"
	"github.com/placer-dev/placer/pkg/bench/report"
	"github.com/placer-dev/placer/pkg/bench/result"
)

// ExitError is how a session ended badly, with the exit status
// placer-bench gives it: 1 a run or the report failed, 2 the input or the
// environment was wrong before anything ran, 130 interrupted. A nil Err
// means the session's own output already said why.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

func exit(code int, format string, a ...any) *ExitError {
	return &ExitError{Code: code, Err: fmt.Errorf(format, a...)}
}

// Compare runs every profile of job o.Count times, each run in a process
// of its own (this binary's ChildCommand, which calls ChildMain): a run
// starts from a fresh heap, scheduler and backend, and no goroutine,
// informer or cache of one run can show in another's figures. This process
// orders the runs, relays their live metrics, passes Ctrl-C (ctx) on,
// prints the table on stdout and writes the report, even when a run failed
// or the session was interrupted. Which run starts, and why the session
// stopped, go to stderr.
func Compare(ctx context.Context, job *Job, o Options, stdout, stderr io.Writer) error {
	if job.Input == nil {
		return exit(2, "job %s was made in code: it runs in process only", job.Name)
	}
	s := New(job, o, nil)
	s.Log = stderr
	if o.Out == "" {
		o.Out = filepath.Join("_output", "bench", s.RunID)
	}
	// By default the logs are the session's own: a new file beside its
	// report, readable by its owner only (a fixed name in a shared /tmp is
	// neither).
	if o.LogFile == DefaultLogFile {
		o.LogFile = filepath.Join(o.Out, "placer-bench.log")
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return exit(2, "--out %s: %v", o.Out, err)
		}
	}
	s.Options = o
	closeLog, err := klogfile.Route(o.LogFile, false)
	if err != nil {
		return exit(2, "--log-file=%s: %v", o.LogFile, err)
	}
	defer closeLog()

	exec := &childProcess{stderr: stderr}
	// A real cluster is checked before anything runs. Each run clears what
	// it made; the namespaces the runs created are deleted once, here, at
	// the end (a namespace being deleted could not take the next run's
	// objects).
	if o.Backend == sim.BackendKubeconfig {
		if exec.cluster, err = sim.NewKubeconfigBackend(ctx, o.Kubeconfig, s.RunID, o.Controllers); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		defer func() {
			if err := exec.cluster.Close(); err != nil {
				fmt.Fprintf(stderr, "placer-bench: cleaning up the cluster: %v\n", err)
			}
		}()
	}
	if o.MetricsAddr != "" {
		exec.live = live.New()
		addr, err := exec.live.Serve(ctx, o.MetricsAddr)
		if err != nil {
			return &ExitError{Code: 2, Err: err}
		}
		fmt.Fprintf(stderr, "live metrics: http://%s/metrics\n", addr)
	}
	if exec.dir, err = os.MkdirTemp("", "placer-bench-runs-"); err != nil {
		return &ExitError{Code: 1, Err: err}
	}
	defer os.RemoveAll(exec.dir)
	s.Exec = exec

	code := 0
	if err := s.Rounds(ctx); err != nil {
		var runErr *RunError
		switch {
		case errors.As(err, &runErr) && runErr.Interrupted:
			// Ctrl-C: what was measured is reported below; the run's
			// process removed what it created, and the deferred clean-ups
			// remove the rest.
			fmt.Fprintf(stderr, "placer-bench: %v; reporting what was measured\n", err)
			code = 130
		default:
			fmt.Fprintf(stderr, "placer-bench: %v\n", err)
			code = 1
		}
	}
	if err := writeReport(s, stdout); err != nil {
		fmt.Fprintf(stderr, "placer-bench: writing the report: %v\n", err)
		code = 1
	}
	if o.LogFile != "" {
		fmt.Fprintf(stdout, "logs: %s\n", o.LogFile)
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// writeReport prints the table and the job's warnings, and writes the
// report: what was measured, even when a run failed or the session was
// interrupted.
func writeReport(s *Session, stdout io.Writer) error {
	rep := s.Report
	// A profile that never finished a run has no column.
	var runs [][]*result.Result
	for _, r := range rep.Runs {
		if len(r) > 0 {
			runs = append(runs, r)
		}
	}
	rep.Runs = runs
	rep.Summarize()
	fmt.Fprintln(stdout)
	result.PrintTable(stdout, rep.Comparison)
	var all []*result.Result
	for _, r := range rep.Runs {
		all = append(all, r...)
	}
	for _, w := range s.Job.Warnings(all) {
		fmt.Fprintf(stdout, "\nwarning: %s\n", w)
	}
	if err := report.Write(s.Options.Out, rep); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nreport: %s\npage: %s\n", s.Options.Out, filepath.Join(s.Options.Out, report.PageFile))
	return nil
}
