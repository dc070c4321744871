package report

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/sim"
)

const small = `apiVersion: bench.placer.dev/v1alpha1
kind: Workload
name: tiny
seed: 1
cluster:
  zones: 2
  nodeGroups: [{name: nodes, count: 4, capacity: {cpu: "4", memory: 8Gi}}]
workloads:
- {name: db, kind: StatefulSet, replicas: 3, pod: {requests: {cpu: 500m, memory: 1Gi}}}
ops: [{op: createNodes}, {op: createWorkloads}, {op: barrier}]
`

func TestWrite(t *testing.T) {
	f, err := workload.Parse([]byte(small), nil)
	if err != nil {
		t.Fatal(err)
	}
	profile, _ := runner.ResolveProfile("default")
	backend, _ := sim.NewBackend(context.Background(), sim.BackendMemory, "")
	res, err := runner.Run(context.Background(), f, profile, backend, runner.Options{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := Write(dir, &Report{Workload: "tiny", Backend: "memory", RunID: "r", Profiles: []*result.Result{res}}); err != nil {
		t.Fatal(err)
	}

	var rep map[string]any
	readJSON(t, filepath.Join(dir, ReportFile), &rep)
	if rep["apiVersion"] != SchemaVersion || rep["kind"] != "Report" || len(rep["profiles"].([]any)) != 1 {
		t.Errorf("report.json: %v", rep)
	}

	var items DataItemsDoc
	readJSON(t, filepath.Join(dir, DataItemsFile), &items)
	found := false
	for _, it := range items.DataItems {
		if it.Labels["Metric"] == "pod_e2e_scheduling_latency" && it.Unit == "ms" && it.Labels["Name"] == "tiny" {
			found = true
		}
	}
	if items.Version != "v1" || !found {
		t.Errorf("dataitems: %+v", items)
	}

	bench, _ := os.ReadFile(filepath.Join(dir, BenchstatFile))
	line := regexp.MustCompile(`(?m)^BenchmarkPlacer/workload=tiny/profile=default-\d+\t1\t\d+ ns/op\t[\d.]+ pods/s\t[\d.]+ p50-latency-s\t[\d.]+ p99-latency-s\t3 scheduled\t0 unschedulable\t\d+ peak-heap-B$`)
	if !line.Match(bench) {
		t.Errorf("bench.txt is not a benchmark line benchstat reads:\n%s", bench)
	}

	data, _ := os.ReadFile(filepath.Join(dir, "placements-default.jsonl"))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d placement lines:\n%s", len(lines), data)
	}
	var p result.Placement
	if err := json.Unmarshal([]byte(lines[0]), &p); err != nil {
		t.Fatal(err)
	}
	if p.Name != "db-0" || p.OwnerKind != "StatefulSet" || p.Ordinal == nil || *p.Ordinal != 0 || p.Node == "" || p.Zone == "" {
		t.Errorf("placement %+v", p)
	}
	if q := p.Requests["cpu"]; q.String() != "500m" {
		t.Errorf("requests %v", p.Requests)
	}
	// No temporary files left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("left %s", e.Name())
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// The page: every chart inline and as a file, the side-by-side table, and
// nothing fetched from the network; Read round-trips report.json.
func TestPage(t *testing.T) {
	r := &Report{APIVersion: SchemaVersion, Kind: "Report", Workload: "w", Backend: "memory", RunID: "r"}
	for i, name := range []string{"default", "placer"} {
		res := &result.Result{Profile: name, Pods: 3, Scheduled: 3,
			ThroughputTimeline: []float64{10, 20 + float64(i), 5},
			LatencyCDF:         []float64{0.1, 0.2, 0.4},
			Scheduler: []result.HistogramSummary{{Metric: "scheduler_plugin_execution_duration_seconds",
				Labels: map[string]string{"plugin": "NodeResourcesFit", "extension_point": "Score"}, Count: 10, AvgMs: 0.5}}}
		res.Quality.Packing.PerNode = []result.NodeUsage{{Name: "n1", Zone: "a", CPU: 0.5}, {Name: "n2", Zone: "b", CPU: 1}}
		r.Profiles = append(r.Profiles, res)
	}
	dir := t.TempDir()
	if err := writeJSON(filepath.Join(dir, ReportFile), r); err != nil {
		t.Fatal(err)
	}
	back, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePage(dir, back); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, PageFile))
	if err != nil {
		t.Fatal(err)
	}
	page := string(raw)
	for _, file := range []string{"throughput.svg", "latency-cdf.svg", "plugins.svg", "heatmap-cpu-default.svg", "heatmap-cpu-placer.svg"} {
		svg, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !strings.HasPrefix(string(svg), "<svg") || !strings.Contains(page, string(svg)) {
			t.Errorf("%s is not an SVG inlined in the page", file)
		}
	}
	// One line per profile on the line charts, one bar per profile and plugin.
	tput, _ := os.ReadFile(filepath.Join(dir, "throughput.svg"))
	if n := strings.Count(string(tput), "<polyline"); n != 2 {
		t.Errorf("throughput chart has %d lines, want 2", n)
	}
	bars, _ := os.ReadFile(filepath.Join(dir, "plugins.svg"))
	if !strings.Contains(string(bars), "<title>placer: 5 ms</title>") {
		t.Errorf("plugins chart lacks placer's 10 × 0.5 ms bar:\n%s", bars)
	}
	if !regexp.MustCompile(`throughput avg \(pods/s\)\s+0\.0`).MatchString(page) {
		t.Errorf("page lacks the side-by-side table")
	}
	// The only URLs are the SVG namespace.
	if strings.Count(page, "http") != strings.Count(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("the page refers to the network")
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "src=") || strings.Contains(page, "<link") {
		t.Error("the page loads something")
	}
	// A report of another schema version is refused, naming both.
	os.WriteFile(filepath.Join(dir, ReportFile), []byte(`{"apiVersion":"bench.placer.dev/v9"}`), 0o600)
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), `apiVersion "bench.placer.dev/v9"`) {
		t.Errorf("Read of v9: %v", err)
	}
}

// Repeated runs: bench.txt has a line per run for benchstat, the
// representative run of each profile is its median-throughput one, and its
// placements are exported; a v1alpha1 report (one run each) still reads.
func TestWriteRepeatedRuns(t *testing.T) {
	r := &Report{Workload: "w", Backend: "memory", RunID: "r", Count: 3}
	for _, name := range []string{"default", "placer"} {
		var runs []*result.Result
		for k, tput := range []float64{300, 100, 200} {
			res := &result.Result{Profile: name, Pods: 1, Scheduled: 1, PID: 1000 + k}
			res.Throughput.Average = tput
			res.SetPlacements([]result.Placement{{Namespace: "ns", Name: fmt.Sprintf("run-%d", k), Node: "n1"}})
			runs = append(runs, res)
		}
		r.Runs = append(r.Runs, runs)
	}
	dir := t.TempDir()
	if err := Write(dir, r); err != nil {
		t.Fatal(err)
	}
	bench, _ := os.ReadFile(filepath.Join(dir, BenchstatFile))
	if n := strings.Count(string(bench), "BenchmarkPlacer/"); n != 6 {
		t.Errorf("bench.txt has %d benchmark lines, want 6:\n%s", n, bench)
	}
	placements, _ := os.ReadFile(filepath.Join(dir, "placements-placer.jsonl"))
	if !strings.Contains(string(placements), `"name":"run-2"`) {
		t.Errorf("placements are not the median run's (run-2, 200 pods/s):\n%s", placements)
	}
	back, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Runs) != 2 || len(back.Runs[1]) != 3 || back.Profiles[1].Throughput.Average != 200 || back.Profiles[1].PID != 1002 {
		t.Errorf("read back: %d profiles, representative %+v", len(back.Runs), back.Profiles[1])
	}
	tput := back.Comparison[4]
	if tput.Name != "throughput avg (pods/s)" || tput.Profiles[0].Interval.Median != 200 || tput.Profiles[0].Interval.Lo != 100 ||
		tput.Profiles[1].RatioToFirst == nil || tput.Profiles[1].RatioToFirst.Differs {
		t.Errorf("comparison: %+v", tput)
	}

	old := []byte(`{"apiVersion":"bench.placer.dev/v1alpha1","kind":"Report","workload":"w","profiles":[{"profile":"default","pods":2},{"profile":"placer","pods":3}]}`)
	if err := os.WriteFile(filepath.Join(dir, ReportFile), old, 0o600); err != nil {
		t.Fatal(err)
	}
	back, err = Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Count != 1 || len(back.Runs) != 2 || back.Comparison[0].Profiles[1].RatioToFirst.Ratio != 1.5 {
		t.Errorf("v1alpha1 read as count %d, %d profiles, comparison %+v", back.Count, len(back.Runs), back.Comparison[0])
	}
}
