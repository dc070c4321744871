package workload

import (
	"strconv"
	"strings"
	"testing"

	"github.com/placer-dev/placer/pkg/bench/limits"
)

// Every count fits an int32, whatever the object ceiling: a replica count
// above it would wrap negative in the objects the run makes.
func TestCountsAboveInt32AreRefused(t *testing.T) {
	cases := []struct {
		name      string
		from, to  string
		overrides map[string]int
		want      string
	}{
		{name: "replicas", from: "replicas: 3\n", to: "replicas: 3000000000\n",
			want: "workloads[1].replicas: Invalid value: 3000000000: more than 2147483647, the most any count may be (Kubernetes counts are 32-bit)"},
		{name: "node group count", from: "count: 3\n    zones", to: "count: 1000000000000\n    zones",
			want: "cluster.nodeGroups[1].count: Invalid value: 1000000000000: more than 2147483647, the most any count may be (Kubernetes counts are 32-bit)"},
		{name: "replicas from --set", overrides: map[string]int{"webReplicas": 3_000_000_000},
			want: "workloads[0].replicas: Invalid value: 3000000000: more than 2147483647, the most any count may be (Kubernetes counts are 32-bit) (from --set webReplicas=3000000000)"},
		{name: "count from a param", from: "params: {nodes: 30,", to: "params: {nodes: 5000000000,",
			want: "cluster.nodeGroups[0].count: Invalid value: 5000000000: more than 2147483647, the most any count may be (Kubernetes counts are 32-bit) (from $nodes)"},
		{name: "scale op", from: "replicas: 8", to: "replicas: 2147483648",
			want: "ops[3].replicas: Invalid value: 2147483648: more than 2147483647"},
		{name: "churn rounds", from: "rounds: 3", to: "rounds: 99999999999",
			want: "ops[4].rounds: Invalid value: 99999999999: more than 2147483647"},
		{name: "rate", from: "rate: 200", to: "rate: 4294967296",
			want: "ops[1].rate: Invalid value: 4294967296: more than 2147483647"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A ceiling far above: only the int32 bound can refuse.
			_, err := ParseWithCeiling(editValid(t, tc.from, tc.to), tc.overrides, 1<<62)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

// The valid file makes 33 nodes (30 + 3) and, at the peak, 35 pods: web's
// 4 workloads scaled to 8 replicas, and db's 3.
func TestObjectCeiling(t *testing.T) {
	f, err := ParseWithCeiling([]byte(valid), nil, 68)
	if err != nil {
		t.Fatalf("exactly at the ceiling: %v", err)
	}
	if tot := f.Objects(); tot.Nodes != 33 || tot.Pods != 35 {
		t.Errorf("Objects() = %d nodes, %d pods; want 33, 35", tot.Nodes, tot.Pods)
	}

	cases := []struct {
		name      string
		from, to  string
		overrides map[string]int
		ceiling   int
		want      string
	}{
		{name: "one over", ceiling: 67,
			want: "workloads[0].count × ops[3].replicas: 32 makes the run 33 nodes and 35 pods, 68 objects, more than the ceiling of 67; " +
				"if that is meant and the machine has the memory (about 50 KiB an object), raise it with --max-objects"},
		{name: "nodes from --set", overrides: map[string]int{"nodes": 300_000}, ceiling: 250_000,
			want: "cluster.nodeGroups[0].count: 300000 makes the run 300003 nodes and 35 pods, 300038 objects, more than the ceiling of 250000;"},
		{name: "count times replicas", from: "count: 4", to: "count: 100000", ceiling: 250_000,
			want: "workloads[0].count × ops[3].replicas: 800000 makes the run 33 nodes and 800003 pods, 800036 objects, more than the ceiling of 250000;"},
		// 30 nodes of 110 pods and 3 of kubelet's default 110: 3630 slots.
		{name: "fill to failure stops when the nodes are full", from: "op: sleep\n  duration: 2s", to: "op: fillToFailure\n  shapes: [{name: a, requests: {cpu: \"1\"}}]", ceiling: 3000,
			want: "ops[5] (the nodes' pod slots, and one more): 3631 makes the run 33 nodes and 3666 pods, 3699 objects, more than the ceiling of 3000;"},
		{name: "fill to failure's maxPods", from: "op: sleep\n  duration: 2s", to: "op: fillToFailure\n  maxPods: 2000\n  shapes: [{name: a, requests: {cpu: \"1\"}}]", ceiling: 2000,
			want: "ops[5].maxPods: 2000 makes the run 33 nodes and 2035 pods, 2068 objects, more than the ceiling of 2000;"},
		// Each count within an int32, their product far above any memory.
		{name: "product of two int32 counts", from: "count: 4", to: "count: 2000000000", overrides: map[string]int{"webReplicas": 2_000_000_000}, ceiling: 250_000,
			want: "workloads[0].count × workloads[0].replicas: 4000000000000000000 makes the run 33 nodes and 4000000000000000003 pods, 4000000000000000036 objects, more than the ceiling of 250000;"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseWithCeiling(editValid(t, tc.from, tc.to), tc.overrides, tc.ceiling)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}

	// Raised knowingly, the same file passes.
	if _, err := ParseWithCeiling([]byte(valid), map[string]int{"nodes": 300_000}, 400_000); err != nil {
		t.Errorf("with --max-objects=400000: %v", err)
	}
	if _, err := ParseWithCeiling([]byte(valid), nil, -1); err == nil || !strings.HasPrefix(err.Error(), "--max-objects=-1: want 0 (the default") {
		t.Errorf("negative ceiling: %v", err)
	}
}

// Parse and Load apply the machine's default ceiling.
func TestDefaultCeilingApplies(t *testing.T) {
	def := limits.Default()
	_, err := Parse([]byte(valid), map[string]int{"nodes": def})
	want := "more than the ceiling of " + strconv.Itoa(def) + ";"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("nodes=%d: got %v, want %q", def, err, want)
	}
}
