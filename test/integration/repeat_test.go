package integration

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// repeatedReport is what these tests read of report.json.
type repeatedReport struct {
	APIVersion string     `json:"apiVersion"`
	Count      int        `json:"count"`
	Order      [][]string `json:"order"`
	Runs       [][]struct {
		Profile string `json:"profile"`
		PID     int    `json:"pid"`
		Drills  []any  `json:"drills"`
		Fills   []any  `json:"fills"`
	} `json:"runs"`
	Comparison []struct {
		Section  string `json:"section"`
		Name     string `json:"name"`
		Profiles []struct {
			Profile  string    `json:"profile"`
			Runs     []float64 `json:"runs"`
			Interval struct {
				N                          int
				Median, Lo, Hi, Confidence float64
			} `json:"interval"`
			RatioToFirst *struct {
				Ratio, Lo, Confidence float64
				Hi                    *float64
				Differs               bool
			} `json:"ratioToFirst"`
		} `json:"profiles"`
	} `json:"comparison"`
}

// TestBenchAA runs the same profile twice, 8 runs each, shuffled round by
// round: every run in a process of its own that is gone afterwards, nothing
// left in TMPDIR, and no figure showing a difference between the two — in
// particular peak memory, which a later profile used to inherit from the
// earlier ones in one process (heap 680 → 814 → 908 MiB over three runs of
// the same profile). A difference counts as shown when all 8 runs of one
// profile fall on the same side of all 8 of the other: for two equal
// profiles that has probability 2/C(16,8) = 0.016% per figure. The table's
// paired ratio is not the test: its interval excludes 1 whenever all 8
// rounds' ratios fall on one side, 2/2^8 = 0.8% per figure for equal
// profiles, so across a dozen continuous figures an A/A run would show a
// false difference about once in ten (CI saw peak RSS 0.990×, 0.983–0.998,
// from runs that overlapped).
func TestBenchAA(t *testing.T) {
	// Pods created at a fixed rate for two seconds: enough for throughput samples.
	bin, dir, file := benchWorkload(t, "aa", 3, `cluster:
  zones: 3
  nodeGroups: [{name: nodes, count: 100, capacity: {cpu: "16", memory: 64Gi}}]
workloads:
- {name: web, kind: Deployment, count: 6, replicas: 100, pod: {requests: {cpu: 200m, memory: 512Mi}}}
ops: [{op: createNodes}, {op: createWorkloads, rate: 300}, {op: barrier}]
`)
	tmp := filepath.Join(dir, "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "out")
	cmd := benchCommand(bin, "run", "-f", file, "--profile", "default", "--profile", "default", "--count", "8", "--shuffle",
		"--log-file", filepath.Join(dir, "bench.log"), "--out", outDir)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("placer-bench run: %v\n%s", err, out)
	}
	rep := readReport[repeatedReport](t, outDir)

	// Isolation: 16 runs, 16 processes, none of them this command's, none alive.
	pids := map[int]bool{}
	for _, runs := range rep.Runs {
		if len(runs) != 8 {
			t.Fatalf("%d runs of %s, want 8", len(runs), runs[0].Profile)
		}
		for _, r := range runs {
			if r.PID == 0 || r.PID == cmd.Process.Pid || pids[r.PID] {
				t.Errorf("run of %s in process %d: want a process of its own", r.Profile, r.PID)
			}
			pids[r.PID] = true
			if err := syscall.Kill(r.PID, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process %d of a finished run is still there (%v)", r.PID, err)
			}
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
	// Interleaved: every round runs both profiles once.
	if len(rep.Order) != 8 {
		t.Errorf("order has %d rounds, want 8", len(rep.Order))
	}
	for _, round := range rep.Order {
		sorted := slices.Sorted(slices.Values(round))
		if !slices.Equal(sorted, []string{"default", "default-2"}) {
			t.Errorf("round %v: want each profile once", round)
		}
	}
	// bench.txt: a line per run, for benchstat.
	bench, _ := os.ReadFile(filepath.Join(outDir, "bench.txt"))
	if n := strings.Count(string(bench), "BenchmarkPlacer/"); n != 16 {
		t.Errorf("bench.txt has %d lines, want 16", n)
	}

	// No difference shown: every ratio's interval includes 1.
	checked := map[string]bool{}
	for _, f := range rep.Comparison {
		if len(f.Profiles) != 2 {
			t.Fatalf("%s: %d profiles", f.Name, len(f.Profiles))
		}
		r := f.Profiles[1].RatioToFirst
		if r == nil {
			continue // the baseline's median is 0
		}
		hi := math.Inf(1)
		if r.Hi != nil {
			hi = *r.Hi
		}
		if a, b := f.Profiles[0].Runs, f.Profiles[1].Runs; separated(a, b) {
			t.Errorf("%s: every run of one profile is above every run of the other (ratio %.3f, interval %.3f–%.3f; runs %v and %v)", f.Name, r.Ratio, r.Lo, hi, a, b)
		}
		if r.Confidence < 0.95 {
			t.Errorf("%s: ratio interval at %.3f confidence, want 95%% or more at 8 runs", f.Name, r.Confidence)
		}
		checked[f.Name] = true
		// Memory is measured in each process: real intervals, not points.
		if f.Name == "peak heap (MiB)" || f.Name == "peak RSS (MiB)" {
			for _, p := range f.Profiles {
				if p.Interval.N != 8 || !(p.Interval.Lo < p.Interval.Hi) || p.Interval.Confidence < 0.95 {
					t.Errorf("%s of %s: interval %+v, want 8 runs and a 95%% interval", f.Name, p.Profile, p.Interval)
				}
			}
		}
	}
	for _, name := range []string{"throughput avg (pods/s)", "peak heap (MiB)", "peak RSS (MiB)", "scheduled"} {
		if !checked[name] {
			t.Errorf("no ratio for %s", name)
		}
	}
	if !regexp.MustCompile(`Medians of 8 runs per profile`).Match(out) {
		t.Errorf("the table does not say what its figures are:\n%s", out)
	}
}

// separated says whether every value of a lies above every value of b, or
// below: two samples of one distribution rarely do.
func separated(a, b []float64) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	return slices.Min(a) > slices.Max(b) || slices.Max(a) < slices.Min(b)
}

// TestBenchRepeatedOps: drills and fillToFailure are repeated like the rest,
// their figures getting medians and intervals; a bad --count is refused
// before anything runs.
func TestBenchRepeatedOps(t *testing.T) {
	bin, dir, file := benchWorkload(t, "ops", 5, `cluster:
  zones: 3
  nodeGroups: [{name: node, count: 9, capacity: {cpu: "8", memory: 32Gi, pods: 110}}]
workloads:
- {name: web, kind: Deployment, replicas: 6, pod: {requests: {cpu: 500m, memory: 1Gi}}}
ops:
- op: createNodes
- op: createWorkloads
- op: barrier
- {op: zoneOutage, zone: zone-a, timeout: 2m}
- {op: zoneRecovery, zone: zone-a, timeout: 2m}
- op: fillToFailure
  shapes: [{name: big, requests: {cpu: "2", memory: 4Gi}}]
`)
	outDir := filepath.Join(dir, "out")
	// Without --log-file the logs of every run go to the run's own directory,
	// readable by its owner only.
	out := runBench(t, bin, "run", "-f", file, "--count", "2", "--out", outDir)
	logFile := filepath.Join(outDir, "placer-bench.log")
	if fi, err := os.Stat(logFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the run's log %s: %v, want a file of mode 0600", logFile, err)
	} else if !strings.Contains(out, "logs: "+logFile) {
		t.Errorf("the output does not say where the logs are:\n%s", out)
	}
	rep := readReport[repeatedReport](t, outDir)
	sections := map[string]int{}
	for _, f := range rep.Comparison {
		for _, p := range f.Profiles {
			if len(p.Runs) != 2 || p.Interval.N != 2 {
				t.Errorf("%s of %s: %d runs, want 2", f.Name, p.Profile, len(p.Runs))
			}
		}
		sections[f.Section]++
		if f.Name == "zoneOutage zone-a: displaced" && f.Profiles[0].Interval.Median != 2 {
			t.Errorf("zone-a outage displaced %v pods, want 2", f.Profiles[0].Runs)
		}
	}
	if sections["drills"] == 0 || sections["fills"] == 0 {
		t.Errorf("comparison sections %v: want drill and fill figures", sections)
	}
	for _, runs := range rep.Runs {
		for _, r := range runs {
			if len(r.Drills) != 2 || len(r.Fills) != 1 {
				t.Errorf("a run of %s has %d drills and %d fills, want 2 and 1", r.Profile, len(r.Drills), len(r.Fills))
			}
		}
	}

	for _, count := range []string{"0", "1001"} {
		out, err := benchCommand(bin, "run", "-f", file, "--count", count).CombinedOutput()
		want := "--count " + count + ": want 1 to 1000 runs per profile"
		if err == nil || !strings.Contains(string(out), want) || strings.Contains(string(out), "profile default on") {
			t.Errorf("--count %s: %v\n%s\nwant %q and nothing run", count, err, out, want)
		}
	}
}
