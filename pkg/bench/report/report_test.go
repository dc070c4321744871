package report

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/workload"
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
	backend, _ := runner.NewBackend(context.Background(), runner.BackendMemory, "")
	res, err := runner.Run(context.Background(), f, profile, backend, runner.Options{RunID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := Write(dir, &Report{Workload: "tiny", Backend: "memory", RunID: "r", Profiles: []*runner.Result{res}}); err != nil {
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
	var p runner.Placement
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
