package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// stderrOf runs f with os.Stderr captured.
func stderrOf(t *testing.T, f func() int) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	code := f()
	os.Stderr = saved
	w.Close()
	return code, <-done
}

const hugeWorkload = `apiVersion: bench.placer.dev/v1alpha1
kind: Workload
name: huge
params: {nodes: 10}
cluster:
  zones: 1
  nodeGroups:
  - {name: general, count: $nodes, capacity: {cpu: "8", memory: 32Gi}}
workloads:
- {name: w, kind: Deployment, replicas: 3000000000, pod: {requests: {cpu: 100m}}}
ops:
- op: createNodes
- op: createWorkloads
`

// A count over its ceiling stops placer-bench run before anything runs: the
// cluster behind --kubeconfig is never contacted, and no output is written.
func TestRunRefusesCountsBeforeContactingTheCluster(t *testing.T) {
	var contacted atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contacted.Add(1)
		http.Error(w, "the harness must not get here", http.StatusTeapot)
	}))
	defer srv.Close()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	writeTestFile(t, kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "`+srv.URL+`"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`)
	file := filepath.Join(dir, "huge.yaml")
	writeTestFile(t, file, hugeWorkload)
	fitting := strings.Replace(hugeWorkload, "replicas: 3000000000", "replicas: 1", 1)
	fittingFile := filepath.Join(dir, "fitting.yaml")
	writeTestFile(t, fittingFile, fitting)
	upstreamFile := filepath.Join(dir, "perf.yaml")
	writeTestFile(t, upstreamFile, `- name: Basic
  workloadTemplate:
  - {opcode: createNodes, countParam: $nodes}
  workloads:
  - name: small
    params: {nodes: 5}
`)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{name: "replicas over an int32", args: []string{"-f", file},
			want: "workloads[0].replicas: Invalid value: 3000000000: more than 2147483647, the most any count may be (Kubernetes counts are 32-bit)"},
		{name: "nodes from --set over the ceiling", args: []string{"-f", fittingFile, "--set", "nodes=1000", "--max-objects", "500"},
			want: "cluster.nodeGroups[0].count: 1000 makes the run 1000 nodes and 1 pods, 1001 objects, more than the ceiling of 500; " +
				"if that is meant and the machine has the memory (about 50 KiB an object), raise it with --max-objects"},
		{name: "negative ceiling", args: []string{"-f", fittingFile, "--max-objects", "-3"},
			want: "--max-objects=-3: want 0 (the default"},
		{name: "upstream nodes over the ceiling", args: []string{"-f", upstreamFile, "--set", "nodes=700", "--max-objects", "600"},
			want: "perf.yaml:3: Basic/small: createNodes countParam $nodes (--set nodes=700): 700 makes the run 700 nodes and 0 pods, 700 objects, more than the ceiling of 600;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
			args := append([]string{"--backend", "kubeconfig", "--kubeconfig", kubeconfig, "--out", out, "--log-file", ""}, tc.args...)
			code, stderr := stderrOf(t, func() int { return newRunCommand().run(context.Background(), args) })
			if code != 2 {
				t.Errorf("exit code %d, want 2 (bad input)", code)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", stderr, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the refused run made its output directory %s (stat: %v)", out, err)
			}
		})
	}
	if n := contacted.Load(); n != 0 {
		t.Errorf("the cluster was contacted %d times by refused runs", n)
	}
}

// cluster up refuses a node count over the ceiling before it starts etcd.
func TestClusterUpRefusesNodesOverTheCeiling(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	code, stderr := stderrOf(t, func() int {
		return newClusterCommand().run(context.Background(), []string{"up", "--log-file", "", "--zones", "3", "--nodes-per-zone", "1000", "--max-objects", "2000"})
	})
	want := "placer-bench cluster up: nodes per zone: 1000 in 3 zones makes 3000 nodes, more than the ceiling of 2000;"
	if code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("exit code %d, stderr:\n%s\nwant a failure containing %q", code, stderr, want)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("a refused cluster up left %d entries in TMPDIR (a control plane was started?)", len(entries))
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// A trace replay's nodes and drawn pods are checked before any backend
// starts.
func TestTraceRefusesObjectsOverTheCeiling(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "t.jsonl")
	var lines []string
	for _, n := range []string{"a", "b", "c"} {
		lines = append(lines, `{"kind":"node","name":"`+n+`","cpuMilli":8000,"memoryMiB":32768,"gpus":1}`)
	}
	lines = append(lines, `{"kind":"pod","name":"p","cpuMilli":1000,"memoryMiB":1024,"gpus":1}`)
	writeTestFile(t, file, strings.Join(lines, "\n")+"\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{name: "nodes", args: []string{"--max-objects", "2"},
			want: "placer-bench trace: trace t: 3 nodes, more than the ceiling of 2 objects;"},
		// 3 GPUs at 130%: 4 whole-GPU pods drawn, 7 objects.
		{name: "draw", args: []string{"--max-objects", "6"},
			want: "placer-bench trace: trace t: --target 130 with seed 42 draws more than 3 pods, which with the trace's 3 nodes is more than the ceiling of 6 objects;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"file", file, "--log-file", "", "--out", filepath.Join(dir, "out")}, tc.args...)
			// Refused, the command returns before session.Compare runs.
			code, stderr := stderrOf(t, func() int { return newTraceCommand().run(context.Background(), args) })
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit code %d, stderr:\n%s\nwant 2 and %q", code, stderr, tc.want)
			}
		})
	}
}
