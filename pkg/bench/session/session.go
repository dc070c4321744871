package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/placer-dev/placer/pkg/bench/report"
	"github.com/placer-dev/placer/pkg/bench/result"
)

// MaxCount bounds the runs of each profile: a thousand is far past what
// any interval needs.
const MaxCount = 1000

// Options say how a session runs its job: placer-bench's flags that every
// input shares.
type Options struct {
	// Backend is where objects live (sim.Backends); Kubeconfig, the
	// cluster's file for sim.BackendKubeconfig.
	Backend, Kubeconfig string
	// Controllers says who makes the pods of controller objects on a real
	// cluster: sim.ControllersAuto, ControllersCluster or ControllersHarness.
	Controllers string
	// Count is how many times each profile runs (1 to MaxCount).
	Count int
	// Shuffle runs the profiles of each round in an order drawn from the
	// job's seed, instead of as given.
	Shuffle bool
	// LogFile is where the components' logs go (empty: discarded);
	// DefaultLogFile stands for placer-bench.log in Out.
	LogFile string
	// Out is the report's directory (default _output/bench/<run ID>).
	Out string
	// MetricsAddr, when set, serves the live figures of each run.
	MetricsAddr string
	// CPUProfile writes a Go CPU profile of each run to Out.
	CPUProfile bool
}

// DefaultLogFile stands for the session's own log file, placer-bench.log in
// its output directory, which is known only once the session has an ID.
const DefaultLogFile = "<out>/placer-bench.log"

// Session is one job's runs: every profile Options.Count times, round by
// round, each run made by Exec.
type Session struct {
	Job     *Job
	Options Options
	RunID   string
	Exec    Executor
	// Log hears which run starts, one line each (nil: nowhere).
	Log io.Writer
	// Report gathers the runs (Report.Runs, Report.Order) as they end.
	Report *report.Report
}

// New makes a session of job started now, with a fresh run ID.
func New(job *Job, o Options, exec Executor) *Session {
	started := time.Now()
	runID := NewRunID(job.Name, started)
	return &Session{Job: job, Options: o, RunID: runID, Exec: exec, Log: io.Discard,
		Report: &report.Report{Workload: job.Name, File: job.File, Params: job.Params, Backend: o.Backend, RunID: runID,
			Started: started, Count: o.Count, Runs: make([][]*result.Result, len(job.Profiles))}}
}

// Executor makes one run of one profile.
type Executor interface {
	Execute(ctx context.Context, s *Session, r Run) (*Outcome, error)
}

// Run is one run of a session: which profile, which round.
type Run struct {
	// Profile indexes Job.Profiles.
	Profile int
	// Round counts from 1 to Options.Count.
	Round int
}

// Outcome is what a run hands back: its result (nil when it failed before
// measuring), and on a real cluster the namespaces it put objects in and
// those it created.
type Outcome struct {
	Result                            *result.Result
	UsedNamespaces, CreatedNamespaces []string
}

// RunError is a run that failed or was interrupted: the rounds stop there.
type RunError struct {
	Profile string
	// Interrupted: the context was cancelled (Ctrl-C) during the run.
	Interrupted bool
	Err         error
}

func (e *RunError) Error() string {
	if e.Interrupted {
		return fmt.Sprintf("interrupted during profile %s", e.Profile)
	}
	return fmt.Sprintf("profile %s: %v", e.Profile, e.Err)
}

func (e *RunError) Unwrap() error { return e.Err }

// Rounds makes the session's runs, round by round, in the order RunOrder
// gives, and adds each one's result to s.Report as it ends. It stops at the
// first run that fails or is interrupted (a *RunError); what was measured
// until then stays in the report.
func (s *Session) Rounds(ctx context.Context) error {
	o, rep := s.Options, s.Report
	for round, order := range RunOrder(len(s.Job.Profiles), o.Count, o.Shuffle, s.Job.Seed) {
		// The round's row of rep.Order, filled as its runs start.
		rep.Order = append(rep.Order, nil)
		for _, i := range order {
			p := s.Job.Profiles[i]
			rep.Order[round] = append(rep.Order[round], p.Name)
			which := ""
			if o.Count > 1 {
				which = fmt.Sprintf(", run %d of %d", round+1, o.Count)
			}
			if s.Log != nil {
				fmt.Fprintf(s.Log, "profile %s on %s backend%s:\n", p.Name, o.Backend, which)
			}
			outcome, err := s.Exec.Execute(ctx, s, Run{Profile: i, Round: round + 1})
			if outcome != nil && outcome.Result != nil {
				rep.Runs[i] = append(rep.Runs[i], outcome.Result)
			}
			if ctx.Err() != nil {
				return &RunError{Profile: p.Name, Interrupted: true, Err: errors.Join(ctx.Err(), err)}
			}
			if err != nil {
				return &RunError{Profile: p.Name, Err: err}
			}
		}
	}
	return nil
}

// RunOrder lists, round by round, the order the profiles run in: as given,
// or with shuffle an order drawn from seed, so that a drift of the machine
// (a build starting beside the run, a cache warming) hits every profile
// alike rather than the ones that happen to run last.
func RunOrder(profiles, count int, shuffle bool, seed int64) [][]int {
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
