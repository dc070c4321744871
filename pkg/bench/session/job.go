// Package session runs benchmark sessions: one job (a workload file, an
// upstream scheduler_perf workload or a trace) with one or more scheduler
// profiles, each profile a number of times, round by round, and hands what
// they measured to pkg/bench/report. Each run is made either in a process
// of its own (Compare, what placer-bench does: a run starts from a fresh
// heap, scheduler and backend) or in the calling process (InProcess, what
// testkit.Bench does); both go through Session.Rounds.
package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/placer-dev/placer/pkg/bench/snapshot"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/upstream"
	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/plugins/explain"
	"github.com/placer-dev/placer/pkg/sim"
)

// Input says what a job runs, as placer-bench's flags give it. A run's
// own process gets it back (as JSON) and builds the same job from it, so
// the parent and each run read the same files the same way.
type Input struct {
	// File is a workload file or an upstream scheduler_perf file (run -f).
	File string `json:"file,omitempty"`
	// Case picks the workload of an upstream file, NAME/WORKLOAD (--case).
	Case string `json:"case,omitempty"`
	// Sets override the file's params (--set).
	Sets map[string]int `json:"sets,omitempty"`
	// Trace, instead of File, replays a trace (placer-bench trace).
	Trace *TraceInput `json:"trace,omitempty"`
	// Profiles are the --profile values; none: the input's own default.
	Profiles []string `json:"profiles,omitempty"`
	// MaxObjects is the object ceiling (--max-objects; 0: limits.Default)
	// the nodes and pods the job makes are checked against.
	MaxObjects int `json:"maxObjects,omitempty"`
	// ExplainPercent of the pods, by a hash of their names (the same pods
	// under every profile), are explained by the Explain plugin, which the
	// job adds to every profile (--explain); 0 leaves the profiles as they are.
	ExplainPercent float64 `json:"explainPercent,omitempty"`
}

// RunFunc makes one run of a profile on a backend.
type RunFunc func(ctx context.Context, p *runner.Profile, backend sim.Backend, rc RunContext) (*result.Result, error)

// RunContext is what a run needs besides its profile and backend.
type RunContext struct {
	RunID string
	// Round is the run's round, from 1 (a trace replay's seed follows from it).
	Round int
	// Progress, when set, hears how the run advances.
	Progress func(op string, created, bound, unschedulable int)
	// Observer, when set, follows the run's ops and pods (--metrics-addr).
	Observer runner.Observer
}

// Job is one input ready to run, whatever its format: the loop over
// profiles, the table and the reports are the same for all.
type Job struct {
	// Name names the session and its reports; File is the file they name.
	Name   string
	File   string
	Params map[string]int
	// Profiles run in this order; the first is the baseline.
	Profiles []*runner.Profile
	// Seed orders the profiles of each round with Options.Shuffle.
	Seed int64
	// Input rebuilds the job in a run's own process; a job made in code
	// (WorkloadJob) has none and runs in process only.
	Input *Input

	run RunFunc
	// newBackend starts a fresh in-process backend (dir: its files, for the
	// embedded one); nil means sim.NewBackend.
	newBackend func(ctx context.Context, name, dir string) (sim.Backend, error)
	// setup runs before the run's backend starts; the func it returns, after
	// the run.
	setup func() (func(), error)
	// warnings are printed after the table.
	warnings func(results []*result.Result) []string
}

// NewJob reads the files in reaches and resolves its profiles: everything
// that can be wrong with the input is found here, before anything runs.
func NewJob(in Input) (*Job, error) {
	var job *Job
	var err error
	switch {
	case in.Trace != nil:
		job, err = traceJob(*in.Trace, in.Profiles, in.MaxObjects)
	case isUpstreamFile(in.File):
		job, err = upstreamJob(in.File, in.Case, in.Sets, in.Profiles, in.MaxObjects)
	case in.Case != "":
		return nil, fmt.Errorf("--case is for upstream scheduler_perf files; %s is a workload file", in.File)
	default:
		var f *workload.File
		if f, err = workload.LoadWithCeiling(in.File, in.Sets, in.MaxObjects); err != nil {
			return nil, err
		}
		// Each run loads the snapshot again; a bad one is found before any.
		if f.Cluster.Snapshot != "" {
			if _, err := snapshot.Load(f.Cluster.Snapshot); err != nil {
				return nil, fmt.Errorf("%s: cluster.snapshot: %w", in.File, err)
			}
		}
		var profiles []*runner.Profile
		if profiles, err = resolveProfiles(in.Profiles, "default", "placer"); err != nil {
			return nil, err
		}
		job = WorkloadJob(f, profiles)
	}
	if err != nil {
		return nil, err
	}
	if job.File == "" {
		job.File = in.File
	}
	if err := explainProfiles(job.Profiles, in.ExplainPercent); err != nil {
		return nil, err
	}
	job.Input = &in
	return job, nil
}

// DefaultExplainPercent is placer-bench run's --explain: enough pods for
// report.html to compare a few on a workload of a few thousand, few enough
// that the extra filter pass of each (over every node) stays within the
// noise of the throughput figure (pkg/plugins/explain/README.md, Cost).
const DefaultExplainPercent = 0.5

// explainProfiles adds the Explain plugin to every profile, sampling percent
// of the pods; 0 changes nothing.
func explainProfiles(profiles []*runner.Profile, percent float64) error {
	if math.IsNaN(percent) || percent < 0 || percent > 100 {
		return fmt.Errorf("--explain %v: want a percent of pods from 0 to 100", percent)
	}
	if percent == 0 {
		return nil
	}
	for _, p := range profiles {
		if err := explain.Enable(&p.Config.Profiles[0], percent); err != nil {
			return fmt.Errorf("--profile %s: %w", p.Name, err)
		}
	}
	return nil
}

// WorkloadJob runs a loaded workload file with the given profiles.
func WorkloadJob(f *workload.File, profiles []*runner.Profile) *Job {
	return &Job{Name: f.Name, Params: f.Params, Profiles: profiles, Seed: f.Seed,
		run: func(ctx context.Context, p *runner.Profile, backend sim.Backend, rc RunContext) (*result.Result, error) {
			return runner.Run(ctx, f, p, backend, runner.Options{RunID: rc.RunID, Progress: rc.Progress, Observer: rc.Observer})
		},
		// A barrier or drill that gave up means the figures cover only part
		// of the pods.
		warnings: func(results []*result.Result) []string {
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
		},
	}
}

// Warnings are what the results leave in doubt, one line each.
func (j *Job) Warnings(results []*result.Result) []string {
	if j.warnings == nil {
		return nil
	}
	return j.warnings(results)
}

// resolveProfiles reads each --profile, or the defaults when none is
// given. A profile given twice (an A/A comparison) is named apart:
// "default", "default-2".
func resolveProfiles(specs []string, defaults ...string) ([]*runner.Profile, error) {
	if len(specs) == 0 {
		specs = defaults
	}
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

// NewRunID names a session: the job's name, the Unix time and 6 random hex
// digits, so that two sessions started in the same second (two terminals,
// two CI jobs on one cluster) never share the label their clean-up selects
// by. It fits a label value (63 characters at most) and a directory name.
func NewRunID(name string, started time.Time) string {
	var suffix [3]byte
	_, _ = rand.Read(suffix[:]) // crypto/rand.Read does not fail on Linux
	return fmt.Sprintf("%s-%d-%s", runName(name), started.Unix(), hex.EncodeToString(suffix[:]))
}

// runName makes a job's name fit in a run ID: at most 40 characters, so
// that with the Unix time and the random suffix the ID stays a valid label.
func runName(name string) string {
	name = runNameUnsafe.ReplaceAllString(name, "-")
	if len(name) > 40 {
		name = strings.TrimRight(name[:40], "-_.")
	}
	return name
}

// isUpstreamFile reports whether path is an upstream scheduler_perf file.
// An unreadable file is not: the workload loader then reports why.
func isUpstreamFile(path string) bool {
	data, err := os.ReadFile(path)
	return err == nil && upstream.IsUpstreamFile(data)
}
