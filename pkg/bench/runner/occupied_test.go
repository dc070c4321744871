package runner

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/workload"
)

// Three nodes, one a zone, filled by another scheduler's pods to 90%, 50%
// and 0% of cpu: of 6 pods of 2 cpus, none fits in zone-a (1 cpu left), two
// in zone-b (5 left) and four in zone-c, so every profile binds two and
// four there, whatever it prefers.
func TestOccupiedNodesHoldOtherSchedulersPods(t *testing.T) {
	text := head("occupied", 5, 3) + `  nodeGroups:
  - name: nodes
    count: 3
    capacity: {cpu: "10", memory: 40Gi}
    occupied: {percent: {zone-a: 90, zone-b: 50, zone-c: 0}, pods: 2}
workloads:
- {name: web, kind: Deployment, replicas: 6, pod: {requests: {cpu: "2", memory: 1Gi}}}
ops: [{op: createNodes}, {op: createWorkloads}, {op: barrier}]
`
	for _, spec := range []string{"default", "placer"} {
		t.Run(spec, func(t *testing.T) {
			res, backend := runMemory(t, text, spec)
			// The other scheduler's pods are the cluster's, not the run's.
			if res.Pods != 6 || res.Scheduled != 6 {
				t.Fatalf("pods %d scheduled %d, want 6 6", res.Pods, res.Scheduled)
			}
			perZone := map[string]int{}
			for _, p := range res.Placements() {
				perZone[p.Zone]++
			}
			if perZone["zone-a"] != 0 || perZone["zone-b"] != 2 || perZone["zone-c"] != 4 {
				t.Errorf("pods per zone %v, want zone-b 2 and zone-c 4: the occupied pods leave room for no more", perZone)
			}
			others, err := backend.Client().CoreV1().Pods(workload.OccupiedNamespace).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			// Two a node in zones a and b; zone-c's 0% puts none.
			if len(others.Items) != 4 {
				t.Fatalf("%d pods of the other scheduler, want 4", len(others.Items))
			}
			for _, p := range others.Items {
				if p.Spec.NodeName == "" || p.Spec.SchedulerName != workload.OccupiedSchedulerName {
					t.Errorf("pod %s on node %q for scheduler %q", p.Name, p.Spec.NodeName, p.Spec.SchedulerName)
				}
			}
			// The quality figures count them as what the nodes hold.
			// (9+5+12)/30 cpus requested: nodes at 90%, 90% and 80%.
			var mean float64
			for _, r := range res.Quality.Packing.Resources {
				if r.Resource == "cpu" {
					mean = r.RequestedMean
				}
			}
			if mean < 0.86 || mean > 0.87 {
				t.Errorf("cpu requested, mean %.3f, want 0.867 (nodes at 90%%, 90%%, 80%%, the other scheduler's pods included)", mean)
			}
		})
	}
}

// A rolling update replaces every pod: a Deployment's under new names, a
// StatefulSet's under the same, batch after batch.
func TestRollingUpdate(t *testing.T) {
	text := head("rolling", 5, 3) + sixNodes + `workloads:
- {name: web, kind: Deployment, replicas: 4, pod: {requests: {cpu: 100m}}}
- {name: db, kind: StatefulSet, replicas: 3, pod: {requests: {cpu: 100m}}, volumeClaims: [{name: data, storageClassName: zonal, size: 1Gi}]}
ops:
- {op: createNodes}
- {op: createWorkloads}
- {op: barrier}
- {op: rollingUpdate, workload: web, pods: 3}
- {op: rollingUpdate, workload: db, pods: 1}
`
	res, backend := runMemory(t, text, "placer")
	// 7 created, 4 + 3 replacements: 14 made, all bound.
	if res.Pods != 14 || res.Scheduled != 14 {
		t.Errorf("pods %d scheduled %d, want 14 14", res.Pods, res.Scheduled)
	}
	for _, ph := range res.Phases[3:] {
		if ph.Op != workload.OpRollingUpdate || ph.TimedOut {
			t.Errorf("phase %+v, want a rolling update that finished", ph)
		}
	}
	before := map[string]bool{}
	for _, p := range res.Placements()[:7] {
		before[p.Name] = true
	}
	pods, err := backend.Client().CoreV1().Pods("bench").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(pods.Items) != 7 {
		t.Fatalf("%d pods left (%v), want 7", len(pods.Items), err)
	}
	for _, p := range pods.Items {
		stateful := p.Labels[generate.WorkloadLabel] == "db"
		if before[p.Name] != stateful {
			t.Errorf("pod %s after the update: a name from before is right only for the StatefulSet's", p.Name)
		}
	}
}
