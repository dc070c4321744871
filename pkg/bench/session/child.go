package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"

	"github.com/placer-dev/placer/internal/klogfile"
	"github.com/placer-dev/placer/pkg/sim"

	"github.com/placer-dev/placer/pkg/bench/live"
	"github.com/placer-dev/placer/pkg/bench/result"
)

// ChildCommand is the binary's hidden subcommand that makes one run of one
// profile (`placer-bench run-profile --spec FILE`): Compare starts it once
// per profile and round, and it calls ChildMain.
const ChildCommand = "run-profile"

// childSpec tells a run's process what to run: the parent's input, which
// the process reads again, so that both see the same job.
type childSpec struct {
	Input      Input  `json:"input"`
	Backend    string `json:"backend"`
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// Controllers is Options.Controllers.
	Controllers string `json:"controllers,omitempty"`
	Profile     int    `json:"profile"`
	Run         int    `json:"run"`
	RunID       string `json:"runID"`
	// Result is where the process writes its childOutcome.
	Result     string `json:"result"`
	CPUProfile string `json:"cpuProfile,omitempty"`
	// Relay: live events go to file descriptor 3, for --metrics-addr.
	Relay bool `json:"relay,omitempty"`
	// LogFile is where the parent sends the logs (the default resolved to
	// the session's directory); the run appends to it.
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

// childProcess is Compare's executor: each run in a process of its own.
type childProcess struct {
	// dir holds the runs' specs and results.
	dir    string
	live   *live.Metrics
	stderr io.Writer
	// cluster, on a real cluster, deletes the namespaces the runs created
	// once the session ends.
	cluster sim.Backend
}

func (c *childProcess) Execute(ctx context.Context, s *Session, r Run) (*Outcome, error) {
	p := s.Job.Profiles[r.Profile]
	if c.live != nil {
		c.live.StartProfile(p.Name)
	}
	spec := childSpec{Input: *s.Job.Input, Backend: s.Options.Backend, Kubeconfig: s.Options.Kubeconfig, Controllers: s.Options.Controllers,
		Profile: r.Profile, Run: r.Round, RunID: s.RunID, Relay: c.live != nil, LogFile: s.Options.LogFile,
		Result: filepath.Join(c.dir, fmt.Sprintf("result-%d-%d.json", r.Profile, r.Round))}
	if s.Options.CPUProfile {
		spec.CPUProfile = filepath.Join(s.Options.Out, cpuProfileName(p.Name, r.Round, s.Options.Count))
	}
	outcome, err := c.run(ctx, spec)
	if outcome == nil {
		return nil, err
	}
	if c.cluster != nil {
		for _, ns := range outcome.UsedNamespaces {
			c.cluster.UsedNamespace(ns, false)
		}
		for _, ns := range outcome.CreatedNamespaces {
			c.cluster.UsedNamespace(ns, true)
		}
	}
	return &Outcome{Result: outcome.Result, UsedNamespaces: outcome.UsedNamespaces, CreatedNamespaces: outcome.CreatedNamespaces}, err
}

func cpuProfileName(profile string, run, count int) string {
	if count == 1 {
		return "cpu-" + profile + ".pprof"
	}
	return fmt.Sprintf("cpu-%s-%d.pprof", profile, run)
}

// run runs one profile once in a process of its own and returns what it
// measured. Ctrl-C (ctx) is passed on to the process, which then reports
// what it measured so far and cleans up, as a whole session does.
func (c *childProcess) run(ctx context.Context, spec childSpec) (*childOutcome, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	specFile := filepath.Join(c.dir, fmt.Sprintf("spec-%d-%d.json", spec.Profile, spec.Run))
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(specFile, data, 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(self, ChildCommand, "--spec", specFile)
	// The table is this process's stdout; the run's progress and errors go
	// to stderr.
	cmd.Stdout, cmd.Stderr = c.stderr, c.stderr
	var relayDone chan error
	if c.live != nil {
		rd, wr, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		cmd.ExtraFiles = []*os.File{wr} // fd 3 in the run's process
		relayDone = make(chan error, 1)
		go func() { relayDone <- c.live.Replay(rd); rd.Close() }()
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
			fmt.Fprintf(c.stderr, "placer-bench: %v\n", err)
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

// ChildMain is ChildCommand: it makes the run specFile describes, in this
// process (InProcess), and writes what it measured where the spec says,
// for the parent to read. The run's own errors go there too: a returned
// *ExitError with no Err only carries the exit status.
func ChildMain(ctx context.Context, specFile string) error {
	data, err := os.ReadFile(specFile)
	if err != nil {
		return exit(2, "%v (this command is placer-bench run's own)", err)
	}
	var spec childSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return exit(2, "%s: %v", specFile, err)
	}
	job, err := NewJob(spec.Input)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if spec.Profile < 0 || spec.Profile >= len(job.Profiles) {
		return exit(2, "profile %d of %d", spec.Profile, len(job.Profiles))
	}
	outcome, code := runChild(ctx, job, spec)
	if outcome.Error == "" && code != 0 && code != 130 {
		outcome.Error = fmt.Sprintf("the run failed (exit %d)", code)
	}
	data, err = json.Marshal(outcome)
	if err == nil {
		err = os.WriteFile(spec.Result, data, 0o600)
	}
	if err != nil {
		return exit(1, "handing the result back: %v", err)
	}
	if code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// runChild makes the run in this process, with the logs, live relay and
// CPU profile the spec asks for, and returns its outcome and exit status.
func runChild(ctx context.Context, job *Job, spec childSpec) (*childOutcome, int) {
	out := &childOutcome{}
	// After what the parent and the runs before this one wrote.
	closeLog, err := klogfile.Route(spec.LogFile, true)
	if err != nil {
		out.Error = fmt.Sprintf("--log-file=%s: %v", spec.LogFile, err)
		return out, 2
	}
	defer closeLog()
	exec := &InProcess{Progress: os.Stderr}
	if spec.Relay {
		relay := os.NewFile(3, "live-relay")
		defer relay.Close()
		exec.Observer = live.NewRelay(relay)
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
	s := &Session{Job: job, Options: Options{Backend: spec.Backend, Kubeconfig: spec.Kubeconfig, Controllers: spec.Controllers, Count: 1}, RunID: spec.RunID, Exec: exec}
	res, runErr := exec.Execute(ctx, s, Run{Profile: spec.Profile, Round: spec.Run})
	if res != nil {
		out.UsedNamespaces, out.CreatedNamespaces = res.UsedNamespaces, res.CreatedNamespaces
		if res.Result != nil {
			res.Result.PID = os.Getpid()
			out.Result, out.Placements = res.Result, res.Result.Placements()
		}
	}
	var exitErr *ExitError
	switch {
	case ctx.Err() != nil:
		return out, 130
	case errors.As(runErr, &exitErr):
		out.Error = exitErr.Error()
		return out, exitErr.Code
	case runErr != nil:
		out.Error = runErr.Error()
		return out, 1
	}
	return out, 0
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
