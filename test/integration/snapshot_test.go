package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// whatIfOnSnapshot is the cluster admin's question on the cluster of
// `cluster up` with the examples running: one more pod waits (it asks for a
// scheduler nobody runs); `placer-bench snapshot` copies the cluster into a
// file, and a workload file that starts from it replays it on the memory
// backend with the default and placer profiles, which place the waiting
// pod and a Deployment of the file around the pods already there.
func whatIfOnSnapshot(t *testing.T, bench, kubeconfig, dir string, kc func(args ...string) string) {
	t.Helper()
	waiting := filepath.Join(dir, "waiting.yaml")
	if err := os.WriteFile(waiting, []byte(`apiVersion: v1
kind: Pod
metadata: {name: waiting, namespace: default}
spec:
  schedulerName: nobody
  containers:
  - name: c
    image: registry.k8s.io/pause:3.10.1
    env: [{name: TOKEN, value: do-not-copy}]
    resources: {requests: {cpu: 100m, memory: 64Mi}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	kc("apply", "-f", waiting)

	snap := filepath.Join(dir, "snap.yaml")
	out, err := exec.Command(bench, "snapshot", "--kubeconfig", kubeconfig, "-o", snap).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "snap.yaml: 6 nodes, 10 pods") {
		t.Fatalf("placer-bench snapshot: %v\n%s", err, out)
	}
	info, err := os.Stat(snap)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("snapshot file mode %v (%v), want 0600", info.Mode(), err)
	}
	data, _ := os.ReadFile(snap)
	for _, never := range []string{"kind: Secret", "kind: ConfigMap", "do-not-copy"} {
		if strings.Contains(string(data), never) {
			t.Errorf("the snapshot holds %q", never)
		}
	}
	if out, err := exec.Command(bench, "snapshot", "--kubeconfig", kubeconfig, "-o", snap).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "the file exists; a snapshot never overwrites one") {
		t.Errorf("second snapshot to the same file: %v\n%s", err, out)
	}

	whatIf := filepath.Join(dir, "what-if.yaml")
	if err := os.WriteFile(whatIf, []byte(`apiVersion: bench.placer.dev/v1alpha1
kind: Workload
name: what-if
seed: 1
cluster: {snapshot: snap.yaml}
workloads:
- name: api
  kind: Deployment
  replicas: 3
  pod: {requests: {cpu: 500m, memory: 256Mi}}
ops:
- op: createWorkloads
- op: barrier
`), 0o600); err != nil {
		t.Fatal(err)
	}
	reportDir := filepath.Join(dir, "what-if")
	cmd := exec.Command(bench, "run", "-f", whatIf, "--backend", "memory", "--profile", "default", "--profile", "placer",
		"--count", "1", "--out", reportDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("placer-bench run from the snapshot: %v\n%s", err, out)
	}
	var rep struct {
		Runs [][]struct {
			Profile   string `json:"profile"`
			Pods      int    `json:"pods"`
			Scheduled int    `json:"scheduled"`
		} `json:"runs"`
	}
	raw, err := os.ReadFile(filepath.Join(reportDir, "report.json"))
	if err == nil {
		err = json.Unmarshal(raw, &rep)
	}
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, runs := range rep.Runs {
		for _, r := range runs {
			got = append(got, fmt.Sprintf("%s %d/%d", r.Profile, r.Scheduled, r.Pods))
		}
	}
	// The waiting pod and the 3 api replicas, per profile; the 9 pods
	// already bound are the cluster's, not the run's.
	if strings.Join(got, ", ") != "default 4/4, placer 4/4" {
		t.Errorf("runs %v, want default 4/4, placer 4/4", got)
	}
}
