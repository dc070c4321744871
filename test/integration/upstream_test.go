package integration

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/internal/testfile"
)

// TestBenchUpstream runs upstream's own SchedulingBasic test case, scaled
// down with --set, through `placer-bench run` on the memory backend with two
// profiles, and checks the table and the reports; a file with several
// cases needs --case, and a case with an op placer-bench does not run is
// refused before anything runs.
func TestBenchUpstream(t *testing.T) {
	bin := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	config := filepath.Join(testfile.SchedulerPerfDir(t), "misc", "performance-config.yaml")
	dir := t.TempDir()
	outDir := filepath.Join(dir, "out")
	text := runBench(t, bin, "run", "-f", config, "--case", "SchedulingBasic/500Nodes",
		"--set", "initNodes=20", "--set", "initPods=30", "--set", "measurePods=200",
		"--profile", "default", "--profile", "placer", "--count", "2",
		"--log-file", filepath.Join(dir, "bench.log"), "--out", outDir)
	// Two runs of each profile: medians, and ratios with their intervals.
	for _, want := range []string{`default\s+placer`, `pods\s+230 ±0%\s+230 ±0% \(1\.00x 1\.00–1\.00 ~\)`,
		`scheduled\s+230 ±0%\s+230 ±0% \(1\.00x 1\.00–1\.00 ~\)`, `unschedulable\s+0 ±0%\s+0 ±0%`, `Medians of 2 runs per profile`} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("output lacks %s:\n%s", want, text)
		}
	}
	type report struct {
		Workload string                `json:"workload"`
		Params   map[string]int        `json:"params"`
		Runs     [][]struct{ PID int } `json:"runs"`
		Profiles []struct {
			Profile string `json:"profile"`
			Latency struct {
				Count int `json:"count"`
			} `json:"latencySeconds"`
			Phases []struct {
				Op string `json:"op"`
			} `json:"phases"`
		} `json:"profiles"`
	}
	rep := readReport[report](t, outDir)
	if rep.Workload != "SchedulingBasic/500Nodes" || rep.Params["measurePods"] != 200 || len(rep.Profiles) != 2 {
		t.Errorf("report.json: workload %q, params %v, %d profiles; want SchedulingBasic/500Nodes, measurePods 200, 2", rep.Workload, rep.Params, len(rep.Profiles))
	}
	if len(rep.Runs) != 2 || len(rep.Runs[0]) != 2 || len(rep.Runs[1]) != 2 {
		t.Errorf("report.json runs: %v, want 2 profiles run twice", rep.Runs)
	}
	for _, p := range rep.Profiles {
		// Latency covers the collectMetrics op's pods only.
		if p.Latency.Count != 200 {
			t.Errorf("profile %s: latency over %d pods, want the 200 measured", p.Profile, p.Latency.Count)
		}
		var ops []string
		for _, ph := range p.Phases {
			ops = append(ops, ph.Op)
		}
		if strings.Join(ops, ",") != "createNodes,createPods,createPods" {
			t.Errorf("profile %s: phases %v, want upstream's createNodes, createPods, createPods", p.Profile, ops)
		}
	}
	lines := 0
	f, err := os.Open(filepath.Join(outDir, "placements-placer.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		lines++
	}
	if lines != 230 {
		t.Errorf("placements-placer.jsonl has %d pods, want 230", lines)
	}
	for _, name := range []string{"dataitems.json", "bench.txt"} {
		if _, err := os.Stat(filepath.Join(outDir, name)); err != nil {
			t.Errorf("run directory lacks %s: %v", name, err)
		}
	}

	// On the embedded backend, with scheduler_perf's environment and the
	// workload's feature gates (SchedulerQueueingHints off, which emulates
	// Kubernetes 1.33 in the scheduler and the API server alike).
	if out := runBench(t, bin, "run", "-f", config, "--case", "SchedulingBasic/5Nodes", "--backend", "embedded",
		"--log-file", filepath.Join(dir, "embedded.log"), "--out", filepath.Join(dir, "embedded")); !regexp.MustCompile(`scheduled\s+15\n`).MatchString(out) {
		t.Errorf("embedded run: want 15 pods scheduled:\n%s", out)
	}

	// Several workloads and no --case: the choice is listed.
	out, err := benchCommand(bin, "run", "-f", config).CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "choose one with --case NAME/WORKLOAD") ||
		!strings.Contains(string(out), "SchedulingBasic/5000Nodes_10000Pods") {
		t.Errorf("run without --case: %v\n%s", err, out)
	}

	// An op placer-bench does not run stops the run, naming it and its line.
	bad := testfile.Write(t, dir, "dra.yaml", `- name: Claims
  workloadTemplate:
  - opcode: createNodes
    count: 1
  - opcode: createResourceDriver
    driverName: test-driver.cdi.k8s.io
    nodes: "*"
  - opcode: createPods
    count: 1
    collectMetrics: true
  workloads:
  - name: one
`)
	out, err = benchCommand(bin, "run", "-f", bad).CombinedOutput()
	if !errors.As(err, &exit) || exit.ExitCode() != 2 ||
		!strings.Contains(string(out), bad+`:5: Claims.workloadTemplate[1]: op not supported by placer-bench: "createResourceDriver"`) {
		t.Errorf("run with createResourceDriver: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "profile default on") {
		t.Errorf("the run started before refusing the op:\n%s", out)
	}
}

// TestBenchUpstreamLiveMetrics: --metrics-addr serves an upstream-format
// run as it serves a workload file's: pods scheduled, the op running.
func TestBenchUpstreamLiveMetrics(t *testing.T) {
	// The sleep keeps the run alive while the test scrapes.
	bin := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	dir := t.TempDir()
	config := testfile.Write(t, dir, "performance-config.yaml", `- name: Watched
  workloadTemplate:
  - opcode: createNodes
    count: 2
  - opcode: createPods
    count: 5
    collectMetrics: true
  - opcode: sleep
    duration: 1h
  workloads:
  - name: small
`)
	body := scrapeLiveMetrics(t, bin, []string{"run", "-f", config, "--profile", "default",
		"--log-file", filepath.Join(dir, "log"), "--out", filepath.Join(dir, "out")},
		`placer_bench_pods_scheduled_total{profile="default"} 5`, `placer_bench_phase{index="2",op="sleep",profile="default"} 1`)
	if line := `placer_bench_pod_scheduling_latency_seconds_count{profile="default"} 5`; !strings.Contains(body, line) {
		t.Errorf("/metrics lacks %s", line)
	}
}
