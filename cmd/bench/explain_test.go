package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/placer-dev/placer/pkg/bench/report"
	"github.com/placer-dev/placer/pkg/explanation"
)

// explainWorkload is 5000 nodes, pods that fit anywhere, and pods too big
// for any node, whose explanations list every node rejected.
const explainWorkload = `apiVersion: bench.placer.dev/v1alpha1
kind: Workload
name: explain
seed: 1
cluster:
  zones: 3
  nodeGroups:
  - name: node
    count: 5000
    capacity: {cpu: "4", memory: 32Gi, pods: 110}
workloads:
- name: small
  kind: Pod
  replicas: 20
  pod: {requests: {cpu: 100m, memory: 500Mi}}
- name: huge
  kind: Pod
  replicas: 2
  pod: {requests: {cpu: "64", memory: 500Mi}}
ops:
- op: createNodes
- op: createWorkloads
  workloads: [small, huge]
  measure: true
- op: barrier
  until: Attempted
`

// placer-bench run --explain 100 explains every pod under both profiles,
// each explanation within the annotation's bound on 5000 nodes; explain
// prints one pod under both; report.html compares them.
func TestRunExplainsPodsAndExplainPrintsThem(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "explain.yaml")
	if err := os.WriteFile(file, []byte(explainWorkload), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stderr := stderrOf(t, func() int {
		return newRunCommand().run(context.Background(), []string{"-f", file, "--profile", "default", "--profile", "placer",
			"--explain", "100", "--out", out, "--log-file", ""})
	})
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	r, err := report.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.ReadPlacements(out, r); err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Profiles {
		explained := 0
		for _, pl := range p.Placements() {
			e := pl.Explanation
			if e == nil {
				t.Errorf("%s: %s/%s not explained", p.Profile, pl.Namespace, pl.Name)
				continue
			}
			explained++
			// What the pod carried: the annotation decodes to e, and
			// encodes back to the same bytes.
			data, err := json.Marshal(e)
			if err != nil || len(data) > explanation.MaxAnnotationBytes {
				t.Errorf("%s: %s: %d bytes (%v), bound %d", p.Profile, pl.Name, len(data), err, explanation.MaxAnnotationBytes)
			}
			if e.Nodes != 5000 {
				t.Errorf("%s: %s explained over %d nodes, want 5000", p.Profile, pl.Name, e.Nodes)
			}
			if e.Node != pl.Node || pl.Bound() == (e.Chosen == nil) {
				t.Errorf("%s: %s bound to %q, explained as on %q", p.Profile, pl.Name, pl.Node, e.Node)
			}
			if !pl.Bound() && (len(e.Rejected) != 1 || e.Rejected[0].Plugin != "NodeResourcesFit" || e.Rejected[0].Nodes != 5000) {
				t.Errorf("%s: %s unschedulable, rejections %+v; want NodeResourcesFit on all 5000 nodes", p.Profile, pl.Name, e.Rejected)
			}
		}
		if explained != 22 {
			t.Errorf("%s: %d pods explained, want 22", p.Profile, explained)
		}
	}

	code, stdout, _ := outputOf(t, func() int { return newExplainCommand().run(context.Background(), []string{out, "huge-0"}) })
	if code != 0 || !strings.Contains(stdout, "profile default:") || !strings.Contains(stdout, "profile placer:") ||
		!strings.Contains(stdout, "NodeResourcesFit") {
		t.Errorf("explain huge-0: exit %d, output:\n%s", code, stdout)
	}
	code, stderr = stderrOf(t, func() int { return newExplainCommand().run(context.Background(), []string{out, "no-such-pod"}) })
	if code != 1 || !strings.Contains(stderr, "pod no-such-pod was not explained; 22 were") {
		t.Errorf("explain of an unknown pod: exit %d, stderr %q", code, stderr)
	}
	page, err := os.ReadFile(filepath.Join(out, report.PageFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `<h2 id="explained">Explained placements</h2>`) {
		t.Errorf("report.html has no explained placements")
	}
}
