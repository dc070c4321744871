package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/placer-dev/placer/pkg/bench/snapshot"
	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/sim"
)

// writeSnapshot writes three 4-cpu nodes in zones a, b, c; node a is full
// with a pod of another scheduler, and two 1-cpu pods wait for a node.
func writeSnapshot(t *testing.T) string {
	t.Helper()
	cpu := func(q string) v1.ResourceList { return v1.ResourceList{v1.ResourceCPU: resource.MustParse(q)} }
	s := &snapshot.Snapshot{}
	for _, z := range []string{"a", "b", "c"} {
		alloc := v1.ResourceList{v1.ResourceCPU: resource.MustParse("4"), v1.ResourceMemory: resource.MustParse("8Gi"), v1.ResourcePods: resource.MustParse("110")}
		s.Nodes = append(s.Nodes, v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-" + z,
			Labels: map[string]string{v1.LabelTopologyZone: z, v1.LabelHostname: "node-" + z}},
			Status: v1.NodeStatus{Allocatable: alloc, Capacity: alloc,
				Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}}}})
	}
	pod := func(name, node, req string) v1.Pod {
		return v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "prod"},
			Spec: v1.PodSpec{NodeName: node, Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: cpu(req)}}}}}
	}
	s.Pods = []v1.Pod{pod("big", "node-a", "4"), pod("wait-1", "", "1"), pod("wait-2", "", "1")}
	path := filepath.Join(t.TempDir(), "snap.yaml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := snapshot.Write(f, s); err != nil {
		t.Fatal(err)
	}
	return path
}

// A run from a snapshot schedules the pods that were pending, around the
// capacity the bound pods take, and measures only its own pods.
func TestRunFromSnapshot(t *testing.T) {
	file := `apiVersion: bench.placer.dev/v1alpha1
kind: Workload
name: what-if
cluster: {snapshot: ` + writeSnapshot(t) + `}
ops:
- op: barrier
`
	for _, spec := range []string{"default", "placer"} {
		t.Run(spec, func(t *testing.T) {
			res := runFile(t, file, spec)
			if res.Pods != 2 || res.Scheduled != 2 {
				t.Fatalf("pods %d scheduled %d, want the 2 pending pods scheduled", res.Pods, res.Scheduled)
			}
			for _, p := range res.Placements() {
				if p.Node == "node-a" || !strings.HasPrefix(p.Name, "wait-") {
					t.Errorf("placement %s on %s: node-a is full and only the pending pods are the run's", p.Name, p.Node)
				}
			}
			for _, n := range res.Quality.Packing.PerNode {
				if n.Name == "node-a" && n.CPU != 1 {
					t.Errorf("node-a cpu requested %v, want 1 (the bound pod counts)", n.CPU)
				}
			}
		})
	}
}

// A snapshot is loaded only into a cluster of the run's own.
func TestSnapshotNeedsAPrivateBackend(t *testing.T) {
	f := &workload.File{Cluster: workload.Cluster{Snapshot: "snap.yaml"}}
	r := &run{file: f, backend: sharedBackend{}}
	err := r.loadSnapshot(context.Background())
	if err == nil || !strings.Contains(err.Error(), "use --backend memory or embedded, not kubeconfig") {
		t.Errorf("loadSnapshot on a shared cluster: %v", err)
	}
}

// sharedBackend stands for a real cluster; loadSnapshot must refuse it
// before touching it.
type sharedBackend struct{ sim.Backend }

func (sharedBackend) Shared() bool { return true }
func (sharedBackend) Name() string { return sim.BackendKubeconfig }
