package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/sim"
)

// fakeExec hands back a result per run and fails, or cancels the context,
// at the run given.
type fakeExec struct {
	failAt, cancelAt Run
	cancel           context.CancelFunc
	runs             []Run
}

func (f *fakeExec) Execute(_ context.Context, s *Session, r Run) (*Outcome, error) {
	f.runs = append(f.runs, r)
	res := &result.Result{Profile: s.Job.Profiles[r.Profile].Name}
	switch r {
	case f.failAt:
		return nil, errors.New("the scheduler crashed")
	case f.cancelAt:
		f.cancel()
	}
	return &Outcome{Result: res}, nil
}

func fakeSession(exec Executor, count int) *Session {
	job := &Job{Name: "fake", Profiles: []*runner.Profile{{Name: "a"}, {Name: "b"}}}
	return New(job, Options{Backend: sim.BackendMemory, Count: count}, exec)
}

// A failed run ends the rounds: the runs before it stay in the report, and
// the round's order row holds the profiles started so far.
func TestRoundsStopAtAFailedRun(t *testing.T) {
	exec := &fakeExec{failAt: Run{Profile: 1, Round: 2}}
	s := fakeSession(exec, 3)
	err := s.Rounds(context.Background())
	var runErr *RunError
	if !errors.As(err, &runErr) || runErr.Interrupted || runErr.Profile != "b" || !strings.Contains(err.Error(), "profile b: the scheduler crashed") {
		t.Fatalf("error %v, want profile b's failure", err)
	}
	if len(exec.runs) != 4 {
		t.Errorf("runs %v, want 4: none after the failure", exec.runs)
	}
	if len(s.Report.Runs[0]) != 2 || len(s.Report.Runs[1]) != 1 {
		t.Errorf("kept %d runs of a and %d of b, want 2 and 1", len(s.Report.Runs[0]), len(s.Report.Runs[1]))
	}
	want := [][]string{{"a", "b"}, {"a", "b"}}
	if !slices.EqualFunc(s.Report.Order, want, slices.Equal) {
		t.Errorf("order %v, want %v", s.Report.Order, want)
	}
}

// Ctrl-C during a run ends the rounds with what that run measured kept.
func TestRoundsInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exec := &fakeExec{cancelAt: Run{Profile: 0, Round: 2}, cancel: cancel}
	s := fakeSession(exec, 3)
	err := s.Rounds(ctx)
	var runErr *RunError
	if !errors.As(err, &runErr) || !runErr.Interrupted || err.Error() != "interrupted during profile a" {
		t.Fatalf("error %v, want an interruption during profile a", err)
	}
	if len(s.Report.Runs[0]) != 2 || len(s.Report.Runs[1]) != 1 {
		t.Errorf("kept %d runs of a and %d of b, want 2 and 1", len(s.Report.Runs[0]), len(s.Report.Runs[1]))
	}
}

// timer counts what InProcess does with a benchmark's timer.
type timer struct{ starts, stops int }

func (t *timer) StartTimer() { t.starts++ }
func (t *timer) StopTimer()  { t.stops++ }

const tinyWorkload = `apiVersion: bench.placer.dev/v1alpha1
kind: Workload
name: tiny
seed: 3
cluster:
  zones: 2
  nodeGroups:
  - name: node
    count: 2
    capacity: {cpu: "4", memory: 8Gi}
workloads:
- name: web
  kind: Deployment
  replicas: 3
  pod: {requests: {cpu: 500m, memory: 256Mi}}
ops:
- op: createNodes
- op: createWorkloads
  measure: true
- op: barrier
  timeout: 1m
`

// The in-process executor runs the loop testkit.Bench uses: every run on a
// fresh memory backend, the timer running during the runs only.
func TestInProcessRounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(path, []byte(tinyWorkload), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := workload.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := runner.ResolveProfile("default")
	if err != nil {
		t.Fatal(err)
	}
	tm := &timer{}
	s := New(WorkloadJob(f, []*runner.Profile{p}), Options{Backend: sim.BackendMemory, Count: 2}, &InProcess{Timer: tm})
	if err := s.Rounds(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(s.Report.Runs[0]) != 2 {
		t.Fatalf("%d runs, want 2", len(s.Report.Runs[0]))
	}
	for i, res := range s.Report.Runs[0] {
		if res.Pods != 3 || res.Scheduled != 3 {
			t.Errorf("run %d: %d of %d pods scheduled, want 3 of 3", i+1, res.Scheduled, res.Pods)
		}
	}
	if tm.starts != 2 || tm.stops != 4 {
		t.Errorf("timer started %d and stopped %d times, want 2 and 4 (stopped before each backend and after each run)", tm.starts, tm.stops)
	}
}

func TestNewJobCaseNeedsAnUpstreamFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(path, []byte(tinyWorkload), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewJob(Input{File: path, Case: "SchedulingBasic/5000Nodes"})
	if err == nil || !strings.Contains(err.Error(), "--case is for upstream scheduler_perf files; "+path+" is a workload file") {
		t.Errorf("error %v, want --case refused for a workload file", err)
	}
}

// A run's process refuses a spec it cannot read with exit status 2, and
// says which command it is.
func TestChildMainBadSpec(t *testing.T) {
	err := ChildMain(context.Background(), filepath.Join(t.TempDir(), "missing.json"))
	var exitErr *ExitError
	if !errors.As(err, &exitErr) || exitErr.Code != 2 || !strings.Contains(err.Error(), "placer-bench run's own") {
		t.Errorf("error %v, want exit 2 naming placer-bench run", err)
	}
}
