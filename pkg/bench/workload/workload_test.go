package workload

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

const valid = `apiVersion: bench.placer.dev/v1alpha1
kind: Workload
name: mixed
seed: 7
params: {nodes: 30, webReplicas: 5}
cluster:
  zones: 3
  nodeGroups:
  - name: general
    count: $nodes
    capacity: {cpu: "32", memory: 128Gi, pods: 110}
  - name: gpu
    count: 3
    zones: [zone-a, zone-b]
    capacity: {cpu: "64", memory: 256Gi, nvidia.com/gpu: 8}
    labels: {accelerator: nvidia}
    taints: [{key: gpu, value: "true", effect: NoSchedule}]
workloads:
- name: web
  kind: Deployment
  count: 4
  replicas: $webReplicas
  pod: {requests: {cpu: 500m, memory: 1Gi}}
- name: db
  kind: StatefulSet
  replicas: 3
  pod: {requests: {cpu: "2", memory: 8Gi}}
  volumeClaims: [{name: data, storageClassName: zonal, size: 10Gi}]
ops:
- op: createNodes
- op: createWorkloads
  rate: 200
  measure: true
- op: barrier
- op: scale
  workload: web
  replicas: 8
- op: churn
  workload: web
  pods: 2
  rounds: 3
  interval: 1s
- op: sleep
  duration: 2s
- op: delete
  workloads: [web]
`

// editValid is the valid file with its first from replaced by to. It
// fails the test when from is not in the file, so that a table row whose
// edit no longer applies cannot pass by parsing the untouched file.
func editValid(t *testing.T, from, to string) []byte {
	t.Helper()
	if !strings.Contains(valid, from) {
		t.Fatalf("test broken: %q not in the valid file", from)
	}
	return []byte(strings.Replace(valid, from, to, 1))
}

func TestParseValid(t *testing.T) {
	f, err := Parse([]byte(valid), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Cluster.Zones; strings.Join(got, ",") != "zone-a,zone-b,zone-c" {
		t.Errorf("zones = %v", got)
	}
	if c := f.Cluster.NodeGroups[0].Count; c.Value != 30 || c.Param != "nodes" {
		t.Errorf("nodeGroups[0].count = %+v", c)
	}
	if w := f.Workloads[0]; w.Replicas.Value != 5 || w.Namespace != "bench" || w.Count.Value != 4 {
		t.Errorf("web = %+v", w)
	}
	if w := f.Workloads[1]; w.Count.Value != 1 || w.VolumeClaims[0].Size.Cmp(resource.MustParse("10Gi")) != 0 {
		t.Errorf("db = %+v", w)
	}
	if b := f.Ops[2]; b.Until != UntilScheduled || b.Timeout.Duration != defaultBarrierTimeout {
		t.Errorf("barrier defaults = %+v", b)
	}
	if c := f.Ops[4]; c.Interval.Duration != time.Second || c.Rounds.Value != 3 {
		t.Errorf("churn = %+v", c)
	}
}

func TestParamsAndOverrides(t *testing.T) {
	f, err := Parse([]byte(valid), map[string]int{"nodes": 5000})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Cluster.NodeGroups[0].Count.Value; got != 5000 {
		t.Errorf("count after --set nodes=5000: %d", got)
	}
	_, err = Parse([]byte(valid), map[string]int{"node": 1})
	if err == nil || !strings.Contains(err.Error(), `--set node=1: the file has no param "node" (params: nodes, webReplicas)`) {
		t.Errorf("unknown override: %v", err)
	}
	_, err = Parse([]byte(strings.Replace(valid, "replicas: $webReplicas", "replicas: $web", 1)), nil)
	if err == nil || !strings.Contains(err.Error(), "workloads[0].replicas: $web is not a param (params: nodes, webReplicas)") {
		t.Errorf("unknown param: %v", err)
	}
}

func TestParseErrorsNameFieldAndProblem(t *testing.T) {
	cases := []struct {
		name, from, to, want string
	}{
		{"unknown field", "replicas: 3\n", "replicas: 3\n  replcas: 4\n", `unknown field "workloads[1].replcas"`},
		{"wrong type", "count: 4", "count: four", `want an integer or "$param", got "four"`},
		{"api version", "bench.placer.dev/v1alpha1", "bench/v9", `apiVersion: Unsupported value: "bench/v9"`},
		{"negative count", "count: 3\n    zones", "count: -3\n    zones", "cluster.nodeGroups[1].count: Invalid value: -3: must not be negative"},
		{"unknown zone", "zones: [zone-a, zone-b]", "zones: [zone-a, zone-q]", `cluster.nodeGroups[1].zones[1]: Unsupported value: "zone-q"`},
		{"no memory", "{cpu: \"32\", memory: 128Gi, pods: 110}", "{cpu: \"32\", pods: 110}", "cluster.nodeGroups[0].capacity[memory]: Required value"},
		{"bad taint", "effect: NoSchedule", "effect: Never", `cluster.nodeGroups[1].taints[0].effect: Unsupported value: "Never"`},
		{"kind", "kind: Deployment", "kind: DaemonSet", `workloads[0].kind: Unsupported value: "DaemonSet"`},
		{"claims on a deployment", "pod: {requests: {cpu: 500m, memory: 1Gi}}", "pod: {requests: {cpu: 500m, memory: 1Gi}}\n  volumeClaims: [{name: x, storageClassName: s, size: 1Gi}]",
			"workloads[0].volumeClaims: Forbidden: only a StatefulSet has volume claim templates"},
		{"duplicate workload", "name: db\n", "name: web\n", `workloads[1].name: Duplicate value: "web"`},
		{"unknown op", "op: sleep", "op: nap", `ops[5].op: Unsupported value: "nap"`},
		{"argument of another op", "op: createNodes", "op: createNodes\n  rate: 5", "ops[0].rate: Forbidden: not an argument of op createNodes"},
		{"measure on a barrier", "- op: barrier\n", "- op: barrier\n  measure: true\n", "ops[2].measure: Forbidden: not an argument of op barrier"},
		{"unknown workload", "workloads: [web]", "workloads: [api]", `ops[6].workloads[0]: Not found: "api"`},
		{"bad duration", "duration: 2s", "duration: soon", `want a duration such as "30s", got "soon"`},
		{"churn without rounds", "  rounds: 3\n", "", "ops[4].rounds: Invalid value: 0: must be at least 1"},
		{"barrier until", "- op: barrier\n", "- op: barrier\n  until: Done\n", `ops[2].until: Unsupported value: "Done"`},
		{"bad quantity", "{cpu: \"32\", memory: 128Gi, pods: 110}", "{cpu: \"32\", memory: 128GB, pods: 110}",
			`cluster.nodeGroups[0].capacity[memory]: Invalid value: "128GB": not a quantity`},
		{"outage of an unknown zone", "op: sleep", "op: zoneOutage\n  zone: zone-z", `ops[5].zone: Unsupported value: "zone-z"`},
		{"outage mode", "op: sleep", "op: nodeFailure\n  nodes: 2\n  mode: Explode", `ops[5].mode: Unsupported value: "Explode"`},
		{"fill without shapes", "op: sleep", "op: fillToFailure", "ops[5].shapes: Required value"},
		{"a name YAML reads as a boolean", "  - name: gpu\n", "  - name: n\n",
			`cannot unmarshal bool into Go struct field NodeGroup.cluster.nodeGroups.name of type string (YAML reads an unquoted y, n, yes, no, on, off, true or false as a boolean: quote the value, e.g. name: "n")`},
		{"occupied without a zone's percent", "labels: {accelerator: nvidia}\n", "labels: {accelerator: nvidia}\n    occupied: {percent: {zone-a: 70}}\n",
			`cluster.nodeGroups[1].occupied.percent[zone-b]: Required value: every zone of the group needs a percent (0 for none)`},
		{"occupied of a zone not the group's", "labels: {accelerator: nvidia}\n", "labels: {accelerator: nvidia}\n    occupied: {percent: {zone-a: 70, zone-b: 60, zone-c: 50}}\n",
			`cluster.nodeGroups[1].occupied.percent[zone-c]: Unsupported value: "zone-c": supported values: "zone-a", "zone-b"`},
		{"occupied over the bound", "labels: {accelerator: nvidia}\n", "labels: {accelerator: nvidia}\n    occupied: {percent: {zone-a: 99, zone-b: 60}, jitter: 51}\n",
			"cluster.nodeGroups[1].occupied.percent[zone-a]: Invalid value: 99: must be in the range [0, 95]"},
		{"occupied jitter", "labels: {accelerator: nvidia}\n", "labels: {accelerator: nvidia}\n    occupied: {percent: {zone-a: 70, zone-b: 60}, jitter: 51}\n",
			"cluster.nodeGroups[1].occupied.jitter: Invalid value: 51: must be in the range [0, 50] (points of percent)"},
		{"occupied pods fill the node", "capacity: {cpu: \"32\", memory: 128Gi, pods: 110}", "capacity: {cpu: \"32\", memory: 128Gi, pods: 110}\n    occupied: {percent: {zone-a: 70, zone-b: 60, zone-c: 60}, pods: 110}",
			"cluster.nodeGroups[0].occupied.pods: Invalid value: 110: must be at least 1 and below the node's 110 pod slots, leaving room for the run's pods"},
		{"rolling update of bare pods", "op: sleep\n  duration: 2s", "op: rollingUpdate\n  workload: web\n  pods: 0",
			"ops[5].pods: Invalid value: 0: must be at least 1"},
		{"fill shape of nothing", "op: sleep", "op: fillToFailure\n  shapes: [{name: a, requests: {cpu: \"0\"}}]",
			"ops[5].shapes[0].requests[cpu]: Invalid value: \"0\": must be positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(editValid(t, tc.from, tc.to), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

func TestLoadNamesTheFileAndReportsAllProblems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	bad := strings.Replace(strings.Replace(valid, "kind: Deployment", "kind: Daemon", 1), "op: sleep", "op: nap", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, nil)
	if err == nil || !strings.HasPrefix(err.Error(), path+": ") ||
		!strings.Contains(err.Error(), "workloads[0].kind") || !strings.Contains(err.Error(), "ops[5].op") {
		t.Errorf("got %v", err)
	}
}

// TestExamplesParse keeps the shipped examples valid.
func TestExamplesParse(t *testing.T) {
	files, err := filepath.Glob("../../../examples/bench/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		if _, err := Load(f, nil); err != nil {
			t.Error(err)
		}
	}
}
