package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/placer-dev/placer/internal/schedproc"
)

// TestBenchDemo runs `placer-bench demo` as make bench does and reads its table.
func TestBenchDemo(t *testing.T) {
	bin := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	logFile := filepath.Join(t.TempDir(), "bench.log")
	out, err := exec.Command(bin, "demo", "--zones=2", "--cpu-nodes=1", "--cpu-pods=4", "--gpu-pods=3", "--log-file="+logFile).CombinedOutput()
	if err != nil {
		t.Fatalf("placer-bench demo: %v\n%s", err, out)
	}
	text := string(out)
	if !strings.Contains(text, `7 pods placed by profile "placer"`) {
		t.Errorf("summary line missing:\n%s", text)
	}
	// GPUs are packed: one row holds all three training pods and 3 GPUs.
	var gpuRows []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "train-") {
			gpuRows = append(gpuRows, line)
		}
	}
	if len(gpuRows) != 1 || !strings.Contains(gpuRows[0], "train-0 train-1 train-2") || !strings.HasSuffix(strings.TrimSpace(gpuRows[0]), " 3") {
		t.Errorf("GPU pods not packed on one node:\n%s", text)
	}
	// Logs went to the file, not the terminal.
	if strings.Contains(text, "I1") || strings.Contains(text, "E1") {
		t.Errorf("klog lines on the terminal:\n%s", text)
	}

	// Bad flags fail before anything runs, naming the flag and value.
	out, err = exec.Command(bin, "demo", "--zones=0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--zones must be at least 1, got 0") {
		t.Errorf("demo --zones=0: %v\n%s", err, out)
	}
}

// TestBenchRun runs `placer-bench run` on a small workload, on the memory and
// the embedded backends, and checks its table; a bad workload file stops it
// before anything runs.
func TestBenchRun(t *testing.T) {
	bin := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	dir := t.TempDir()
	file := filepath.Join(dir, "small.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: bench.placer.dev/v1alpha1
kind: Workload
name: small
seed: 1
params: {replicas: 4}
cluster:
  zones: 3
  nodeGroups:
  - name: nodes
    count: 6
    capacity: {cpu: "8", memory: 32Gi}
workloads:
- name: web
  kind: Deployment
  count: 2
  replicas: $replicas
  pod: {requests: {cpu: 500m, memory: 1Gi}}
- name: db
  kind: StatefulSet
  replicas: 3
  pod: {requests: {cpu: "1", memory: 2Gi}}
ops:
- op: createNodes
- op: createWorkloads
- op: barrier
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, backend := range []string{"memory", "embedded"} {
		t.Run(backend, func(t *testing.T) {
			outDir := filepath.Join(dir, backend+"-out")
			out, err := exec.Command(bin, "run", "-f", file, "--backend", backend, "--set", "replicas=5",
				"--log-file", filepath.Join(dir, backend+".log"), "--out", outDir).CombinedOutput()
			if err != nil {
				t.Fatalf("placer-bench run: %v\n%s", err, out)
			}
			text := string(out)
			// 2 x 5 web + 3 db scheduled, both profiles, with placer's ratio to default.
			for _, want := range []string{`default\s+placer`, `scheduled\s+13\s+13 \(1\.00x\)`, `unschedulable\s+0\s+0`} {
				if !regexp.MustCompile(want).MatchString(text) {
					t.Errorf("output lacks %s:\n%s", want, text)
				}
			}
			for _, name := range []string{"report.json", "dataitems.json", "bench.txt", "placements-default.jsonl", "placements-placer.jsonl"} {
				if _, err := os.Stat(filepath.Join(outDir, name)); err != nil {
					t.Errorf("run directory lacks %s: %v", name, err)
				}
			}
		})
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: bench.placer.dev/v1alpha1\nkind: Workload\nname: bad\ncluster: {zones: 2, nodeGroups: [{name: a, count: 1, capacity: {cpu: 1, memory: 1Gi}}]}\nworkloads: [{name: w, kind: Daemon}]\nops: [{op: createNodes}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "run", "-f", bad).CombinedOutput()
	want := bad + `: workloads[0].kind: Unsupported value: "Daemon"`
	if err == nil || !strings.Contains(string(out), want) || strings.Contains(string(out), "profile default on") {
		t.Errorf("bad file: %v\n%s\nwant %q and nothing run", err, out, want)
	}
}
