package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/internal/testfile"
	"github.com/placer-dev/placer/pkg/controlplane"
)

// benchWorkload finds placer-bench and writes a workload file into a new
// test directory.
func benchWorkload(t *testing.T, name string, seed int, rest string) (bin, dir, file string) {
	t.Helper()
	bin = schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	dir = t.TempDir()
	file = testfile.Write(t, dir, "workload.yaml", workloadYAML(name, seed, rest))
	return bin, dir, file
}

// benchCommand is placer-bench with args, run from the repository root,
// where the examples the tests name are.
func benchCommand(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Dir = schedproc.RepoRoot()
	return cmd
}

// runBench runs placer-bench with args, which must succeed, and returns
// what it printed.
func runBench(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := benchCommand(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("placer-bench %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// readReport reads the report.json placer-bench wrote into dir, as much of
// it as T holds.
func readReport[T any](t *testing.T, dir string) T {
	t.Helper()
	var rep T
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// workloadYAML is a workload file: the header every one starts with (its
// kind, name and seed), then rest: the cluster, workloads and ops.
func workloadYAML(name string, seed int, rest string) string {
	return fmt.Sprintf("apiVersion: bench.placer.dev/v1alpha1\nkind: Workload\nname: %s\nseed: %d\n", name, seed) + rest
}

// TestBenchDemo runs examples/bench/demo.yaml as make demo does, on the
// embedded control plane: every pod bound under both profiles, placer packs
// the GPU training pods onto one node, and the logs stay out of the terminal.
func TestBenchDemo(t *testing.T) {
	bin := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	dir := t.TempDir()
	outDir := filepath.Join(dir, "out")
	text := runBench(t, bin, "run", "-f", "examples/bench/demo.yaml", "--backend", "embedded", "--profile", "default", "--profile", "placer",
		"--set", "trainReplicas=3", "--log-file", filepath.Join(dir, "bench.log"), "--out", outDir)
	if !regexp.MustCompile(`scheduled\s+12\s+12 \(1\.00x\)`).MatchString(text) {
		t.Errorf("not every pod scheduled:\n%s", text)
	}
	// The three training pods share one GPU node under placer.
	data, err := os.ReadFile(filepath.Join(outDir, "placements-placer.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	gpuNodes := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var p struct{ Name, Node string }
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(p.Name, "train-") {
			gpuNodes[p.Node]++
		}
	}
	if len(gpuNodes) != 1 || slices.Collect(maps.Values(gpuNodes))[0] != 3 {
		t.Errorf("training pods per node %v, want all 3 on one node", gpuNodes)
	}
	// Logs went to the file, not the terminal.
	if strings.Contains(text, "I1") || strings.Contains(text, "E1") {
		t.Errorf("klog lines on the terminal:\n%s", text)
	}
}

// TestBenchRun runs `placer-bench run` on a small workload, on the memory and
// the embedded backends, and checks its table; a bad workload file stops it
// before anything runs.
func TestBenchRun(t *testing.T) {
	bin, dir, file := benchWorkload(t, "small", 1, `params: {replicas: 4}
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
`)
	for _, backend := range []string{"memory", "embedded"} {
		t.Run(backend, func(t *testing.T) {
			outDir := filepath.Join(dir, backend+"-out")
			text := runBench(t, bin, "run", "-f", file, "--backend", backend, "--set", "replicas=5",
				"--log-file", filepath.Join(dir, backend+".log"), "--out", outDir)
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
			// The runs' own processes log to --log-file: the embedded API
			// server always says something.
			if backend == "embedded" {
				if fi, err := os.Stat(filepath.Join(dir, backend+".log")); err != nil || fi.Size() == 0 {
					t.Errorf("--log-file is empty or missing (%v): the runs' logs were lost", err)
				}
			}
		})
	}

	bad := testfile.Write(t, dir, "bad.yaml", "apiVersion: bench.placer.dev/v1alpha1\nkind: Workload\nname: bad\ncluster: {zones: 2, nodeGroups: [{name: a, count: 1, capacity: {cpu: 1, memory: 1Gi}}]}\nworkloads: [{name: w, kind: Daemon}]\nops: [{op: createNodes}]\n")
	out, err := exec.Command(bin, "run", "-f", bad).CombinedOutput()
	want := bad + `: workloads[0].kind: Unsupported value: "Daemon"`
	if err == nil || !strings.Contains(string(out), want) || strings.Contains(string(out), "profile default on") {
		t.Errorf("bad file: %v\n%s\nwant %q and nothing run", err, out, want)
	}
}

// TestBenchRunAgainstACluster points placer-bench at a cluster by kubeconfig
// (the embedded control plane standing in for a real one) and checks that it
// schedules there and leaves nothing of its own behind.
func TestBenchRunAgainstACluster(t *testing.T) {
	bin := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	cp := controlplane.StartForTest(t, controlplane.Options{})
	c := kubernetes.NewForConfigOrDie(cp.Config)
	ctx := context.Background()
	// Something of the cluster's own, which the run must not touch.
	if _, err := c.CoreV1().Nodes().Create(ctx, &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "real-node"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := testfile.Write(t, dir, "w.yaml", workloadYAML("cluster", 1, `cluster:
  zones: 2
  nodeGroups: [{name: synth, count: 4, capacity: {cpu: "8", memory: 32Gi}}]
workloads:
- {name: web, kind: Deployment, replicas: 4, pod: {requests: {cpu: 100m}}}
- {name: db, kind: StatefulSet, replicas: 3, pod: {requests: {cpu: 100m}}, volumeClaims: [{name: data, storageClassName: bench-zonal, size: 1Gi}]}
ops: [{op: createNodes}, {op: createWorkloads}, {op: barrier, timeout: 3m}]
`))
	out, err := exec.Command(bin, "run", "-f", file, "--backend", "kubeconfig", "--kubeconfig", cp.KubeconfigPath,
		"--log-file", filepath.Join(dir, "log"), "--out", filepath.Join(dir, "out")).CombinedOutput()
	if err != nil {
		t.Fatalf("placer-bench run: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`scheduled\s+7\s+7 \(1\.00x\)`).Match(out) {
		t.Errorf("not every pod scheduled on the cluster:\n%s", out)
	}
	// Nothing labelled with a run is left; the cluster's own node is.
	sel := metav1.ListOptions{LabelSelector: "bench.placer.dev/run"}
	nodes, _ := c.CoreV1().Nodes().List(ctx, sel)
	pods, _ := c.CoreV1().Pods("").List(ctx, sel)
	pvs, _ := c.CoreV1().PersistentVolumes().List(ctx, sel)
	classes, _ := c.StorageV1().StorageClasses().List(ctx, sel)
	sets, _ := c.AppsV1().StatefulSets("").List(ctx, sel)
	if n := len(nodes.Items) + len(pods.Items) + len(pvs.Items) + len(classes.Items) + len(sets.Items); n != 0 {
		t.Errorf("left behind: %d nodes, %d pods, %d volumes, %d classes, %d statefulsets",
			len(nodes.Items), len(pods.Items), len(pvs.Items), len(classes.Items), len(sets.Items))
	}
	if _, err := c.CoreV1().Nodes().Get(ctx, "real-node", metav1.GetOptions{}); err != nil {
		t.Errorf("the cluster's own node: %v", err)
	}
	// The namespace the run created is being deleted (this control plane
	// runs no namespace controller to finish the job).
	ns, err := c.CoreV1().Namespaces().Get(ctx, "bench", metav1.GetOptions{})
	if err == nil && ns.DeletionTimestamp == nil {
		t.Error("namespace bench, created by the run, was not deleted")
	}

	// Pods of another scheduler (occupied) go only on a cluster of the
	// run's own: refused before any node is made.
	occupied := testfile.Write(t, dir, "occupied.yaml", workloadYAML("occupied", 1, `cluster:
  zones: 2
  nodeGroups: [{name: synth, count: 2, capacity: {cpu: "8", memory: 32Gi}, occupied: {percent: {zone-a: 50, zone-b: 50}}}]
workloads: [{name: web, kind: Deployment, replicas: 2, pod: {requests: {cpu: 100m}}}]
ops: [{op: createNodes}]
`))
	out, err = exec.Command(bin, "run", "-f", occupied, "--backend", "kubeconfig", "--kubeconfig", cp.KubeconfigPath,
		"--log-file", filepath.Join(dir, "log"), "--out", filepath.Join(dir, "occupied-out")).CombinedOutput()
	const wantOccupied = "cluster.nodeGroups[].occupied: pods of another scheduler are put only on a cluster of the run's own; use --backend memory or embedded, not kubeconfig"
	if err == nil || !strings.Contains(string(out), wantOccupied) {
		t.Errorf("occupied on a shared cluster: %v\n%s\nwant %q", err, out, wantOccupied)
	}
	if nodes, _ := c.CoreV1().Nodes().List(ctx, sel); len(nodes.Items) != 0 {
		t.Errorf("%d nodes of the refused run left", len(nodes.Items))
	}

	// A kubeconfig that reaches nothing stops the run before it starts.
	bad := filepath.Join(dir, "bad-kubeconfig")
	os.WriteFile(bad, []byte("apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n"), 0o600)
	out, err = exec.Command(bin, "run", "-f", file, "--backend", "kubeconfig", "--kubeconfig", bad,
		"--out", filepath.Join(dir, "unreachable")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--kubeconfig "+bad+": the cluster at https://127.0.0.1:1 does not answer") {
		t.Errorf("unreachable cluster: %v\n%s", err, out)
	}
}

// TestBenchRunInterrupted stops a run with Ctrl-C while a barrier waits for
// pods that can never fit: what was measured is still written, and what the
// run created is removed — the cluster's objects on the kubeconfig backend,
// the control plane's files on the embedded one.
func TestBenchRunInterrupted(t *testing.T) {
	bin, dir, file := benchWorkload(t, "stuck", 1, `cluster:
  zones: 2
  nodeGroups: [{name: small, count: 2, capacity: {cpu: "2", memory: 8Gi}}]
workloads:
- {name: fits, kind: Deployment, replicas: 2, pod: {requests: {cpu: 100m}}}
- {name: toobig, kind: Deployment, replicas: 2, pod: {requests: {cpu: "16"}}}
ops: [{op: createNodes}, {op: createWorkloads}, {op: barrier, timeout: 30m}]
`)
	cp := controlplane.StartForTest(t, controlplane.Options{})
	for _, backend := range []string{"kubeconfig", "embedded"} {
		t.Run(backend, func(t *testing.T) {
			tmp := filepath.Join(dir, backend+"-tmp")
			outDir := filepath.Join(dir, backend+"-out")
			if err := os.Mkdir(tmp, 0o700); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "run", "-f", file, "--backend", backend, "--kubeconfig", cp.KubeconfigPath,
				"--profile", "default", "--profile", "placer", "--log-file", filepath.Join(dir, backend+".log"), "--out", outDir)
			if backend != "kubeconfig" {
				cmd.Args = slices.DeleteFunc(cmd.Args, func(a string) bool { return a == "--kubeconfig" || a == cp.KubeconfigPath })
			}
			// The embedded control plane keeps its files under TMPDIR.
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			var stdout strings.Builder
			cmd.Stdout = &stdout
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Interrupt once the scheduler has placed the small pods and
			// found the big ones unschedulable.
			stuck := regexp.MustCompile(`barrier: 2/4 pods bound, 2 unschedulable`)
			var seen strings.Builder
			lines := bufio.NewScanner(stderr)
			for lines.Scan() {
				seen.WriteString(lines.Text() + "\n")
				if stuck.MatchString(lines.Text()) {
					break
				}
			}
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(stderr)
			seen.Write(rest)
			err = cmd.Wait()
			if err == nil {
				t.Errorf("an interrupted run exited 0")
			}
			if !stuck.MatchString(seen.String()) || strings.Contains(seen.String(), "profile placer on") {
				t.Fatalf("wanted the run stopped in profile default's barrier:\n%s", seen.String())
			}
			if !strings.Contains(seen.String(), "interrupted") {
				t.Errorf("stderr does not say the run was interrupted:\n%s", seen.String())
			}
			// The table and the report cover what ran.
			if !regexp.MustCompile(`scheduled\s+2\n`).MatchString(stdout.String()) {
				t.Errorf("table lacks the 2 scheduled pods:\n%s", stdout.String())
			}
			raw, err := os.ReadFile(filepath.Join(outDir, "report.json"))
			if err != nil {
				t.Fatalf("no report after the interrupt: %v", err)
			}
			var rep struct {
				Profiles []struct {
					Profile                  string
					Scheduled, Unschedulable int
				}
			}
			if err := json.Unmarshal(raw, &rep); err != nil {
				t.Fatal(err)
			}
			if len(rep.Profiles) != 1 || rep.Profiles[0].Profile != "default" || rep.Profiles[0].Scheduled != 2 || rep.Profiles[0].Unschedulable != 2 {
				t.Errorf("report.json profiles = %+v, want default with 2 scheduled and 2 unschedulable", rep.Profiles)
			}
			if backend == "kubeconfig" {
				c := kubernetes.NewForConfigOrDie(cp.Config)
				sel := metav1.ListOptions{LabelSelector: "bench.placer.dev/run"}
				nodes, _ := c.CoreV1().Nodes().List(context.Background(), sel)
				pods, _ := c.CoreV1().Pods("").List(context.Background(), sel)
				if len(nodes.Items)+len(pods.Items) != 0 {
					t.Errorf("left on the cluster: %d nodes, %d pods", len(nodes.Items), len(pods.Items))
				}
			}
			left, _ := os.ReadDir(tmp)
			if len(left) != 0 {
				t.Errorf("left in TMPDIR: %v", left)
			}
		})
	}
}

// TestBenchLiveMetrics watches a run from outside, as Prometheus would:
// --metrics-addr serves the pods scheduled so far while the run goes on.
func TestBenchLiveMetrics(t *testing.T) {
	// The sleep keeps the run alive while the test scrapes.
	bin, dir, file := benchWorkload(t, "watched", 1, `cluster: {zones: 2, nodeGroups: [{name: node, count: 2, capacity: {cpu: "8", memory: 32Gi}}]}
workloads: [{name: web, kind: Deployment, replicas: 6, pod: {requests: {cpu: 100m}}}]
ops: [{op: createNodes}, {op: createWorkloads}, {op: barrier}, {op: sleep, duration: 1h}]
`)
	// Scheduled pods, then the run moving on to its sleep.
	body := scrapeLiveMetrics(t, bin, []string{"run", "-f", file, "--profile", "placer",
		"--log-file", filepath.Join(dir, "log"), "--out", filepath.Join(dir, "out")},
		`placer_bench_pods_scheduled_total{profile="placer"} 6`, `placer_bench_phase{index="3",op="sleep",profile="placer"} 1`)
	for _, line := range []string{`placer_bench_phase{index="2",op="barrier",profile="placer"} 0`,
		`placer_bench_pod_scheduling_latency_seconds_count{profile="placer"} 6`} {
		if !strings.Contains(body, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

// scrapeLiveMetrics runs placer-bench with args and --metrics-addr, scrapes
// the address it prints until the page holds every line of want, and
// returns the page; the run is interrupted when the test ends.
func scrapeLiveMetrics(t *testing.T, bin string, args []string, want ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--metrics-addr", "127.0.0.1:0")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	url := ""
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "live metrics: "); ok {
			url = u
			break
		}
	}
	if url == "" {
		t.Fatal("placer-bench did not print where its metrics are")
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	var body string
	err = poll(context.Background(), func(context.Context) (bool, error) {
		resp, err := http.Get(url)
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		for _, w := range want {
			if !strings.Contains(body, w) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("%s never showed %q:\n%s", url, want, body)
	}
	return body
}
