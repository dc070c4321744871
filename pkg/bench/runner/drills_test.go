package runner

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/sim"
)

// head starts a workload file: its name, seed and zone count; the cluster's
// node groups follow.
func head(name string, seed, zones int) string {
	return fmt.Sprintf("apiVersion: bench.placer.dev/v1alpha1\nkind: Workload\nname: %s\nseed: %d\ncluster:\n  zones: %d\n", name, seed, zones)
}

// runMemory runs a workload file's text with a profile on a fresh memory
// backend, failing the test on any error, and returns the result and the
// backend, to look at what is left.
func runMemory(t *testing.T, text, profileSpec string) (*result.Result, sim.Backend) {
	t.Helper()
	f, err := workload.Parse([]byte(text), nil)
	if err != nil {
		t.Fatal(err)
	}
	profile, err := ResolveProfile(profileSpec)
	if err != nil {
		t.Fatal(err)
	}
	backend, err := sim.NewBackend(context.Background(), sim.BackendMemory, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backend.Close() })
	res, err := Run(context.Background(), f, profile, backend, Options{RunID: "test-" + profileSpec})
	if err != nil {
		t.Fatal(err)
	}
	return res, backend
}

// runFile is runMemory's result.
func runFile(t *testing.T, text, profileSpec string) *result.Result {
	t.Helper()
	res, _ := runMemory(t, text, profileSpec)
	return res
}

var drillCluster = head("drill", 7, 3) + `  nodeGroups: [{name: node, count: 6, capacity: {cpu: "8", memory: 32Gi, pods: 110}}]
workloads:
- {name: web, kind: Deployment, replicas: 6, pod: {requests: {cpu: 500m, memory: 1Gi}}}
- {name: db, kind: StatefulSet, replicas: 3, pod: {requests: {cpu: "1", memory: 2Gi}}, volumeClaims: [{name: data, storageClassName: zonal, size: 1Gi}]}
`

// A zone goes NotReady: web's two replicas there come back in the other
// zones; db's replica there cannot follow its volume and waits; during the
// outage db keeps its quorum and web stays up. When the zone recovers, the
// db replica returns.
func TestZoneOutageAndRecovery(t *testing.T) {
	res := runFile(t, drillCluster+`ops:
- {op: createNodes}
- {op: createWorkloads}
- {op: barrier}
- {op: zoneOutage, zone: zone-a, timeout: 1m}
- {op: zoneRecovery, zone: zone-a, timeout: 1m}
`, "placer")
	if len(res.Drills) != 2 {
		t.Fatalf("drills %+v", res.Drills)
	}
	out, back := res.Drills[0], res.Drills[1]
	if out.Op != "zoneOutage" || out.Domain != "zone-a" || out.Mode != "NotReady" || out.NodesLost != 2 {
		t.Errorf("outage %+v", out)
	}
	// placer puts 2 web replicas and 1 db replica in each zone.
	if out.PodsDisplaced != 3 || out.Rebound != 2 || out.Unplaced != 1 || out.PodsLost != 0 || out.TimedOut {
		t.Errorf("outage displaced %d rebound %d unplaced %d lost %d timed out %v", out.PodsDisplaced, out.Rebound, out.Unplaced, out.PodsLost, out.TimedOut)
	}
	if out.ReboundSeconds.Count != 2 || out.ReboundSeconds.Max <= 0 {
		t.Errorf("rebound times %+v", out.ReboundSeconds)
	}
	if d := out.DuringOutage; d == nil || d.StatefulSetsWithQuorum != 1 || d.DeploymentsAvailable != 1 {
		t.Errorf("during outage %+v", out.DuringOutage)
	}
	if back.Op != "zoneRecovery" || back.NodesLost != 2 || back.Rebound != 1 || back.Unplaced != 0 {
		t.Errorf("recovery %+v", back)
	}
	// At the end: every live pod bound, db one per zone again.
	for _, w := range res.Quality.Spread.Workloads {
		if w.Workload == "StatefulSet bench/db" && (w.Replicas != 3 || w.ZoneSkew != 0) {
			t.Errorf("db at the end %+v", w)
		}
	}
	if res.Quality.Outcomes.Bound != 9 || res.Quality.Outcomes.Unschedulable != 0 {
		t.Errorf("outcomes %+v", res.Quality.Outcomes)
	}
}

// Removed nodes: their pods are displaced; a bare pod has nobody to
// recreate it.
func TestNodeFailureRemove(t *testing.T) {
	res := runFile(t, head("drill", 7, 1)+`  nodeGroups: [{name: node, count: 2, capacity: {cpu: "8", memory: 32Gi, pods: 110}}]
workloads:
- {name: web, kind: Deployment, replicas: 4, pod: {requests: {cpu: 500m}}}
- {name: bare, kind: Pod, replicas: 2, pod: {requests: {cpu: 500m}}}
ops:
- {op: createNodes}
- {op: createWorkloads}
- {op: barrier}
- {op: nodeFailure, nodes: 2, mode: Remove, timeout: 1m}
`, "default")
	d := res.Drills[0]
	// Both nodes go: 6 pods displaced, 2 of them bare; the 4 web
	// replacements have nowhere to go.
	if d.NodesLost != 2 || d.PodsDisplaced != 6 || d.PodsLost != 2 || d.Rebound != 0 || d.Unplaced != 4 {
		t.Errorf("node failure %+v", d)
	}
	if d.DuringOutage.DeploymentsAvailable != 0 {
		t.Errorf("during outage %+v", d.DuringOutage)
	}
	if res.Quality.Packing.Nodes != 0 || res.Quality.Outcomes.Unschedulable != 4 {
		t.Errorf("after: nodes %d unschedulable %d", res.Quality.Packing.Nodes, res.Quality.Outcomes.Unschedulable)
	}
}

// Two 4-cpu nodes, shapes of 1 and 2 cpus in turn: 1+2+1+2+1 = 7 cpus fit,
// then a 2-cpu pod finds no node with 2 free.
func TestFillToFailure(t *testing.T) {
	res := runFile(t, head("fill", 1, 1)+`  nodeGroups: [{name: node, count: 2, capacity: {cpu: "4", memory: 32Gi, pods: 110}}]
workloads: []
ops:
- {op: createNodes}
- {op: fillToFailure, shapes: [{name: small, requests: {cpu: "1"}}, {name: large, requests: {cpu: "2"}}]}
`, "default")
	if len(res.Fills) != 1 {
		t.Fatalf("fills %+v", res.Fills)
	}
	f := res.Fills[0]
	if f.Placed["small"] != 3 || f.Placed["large"] != 2 || f.Total != 5 || f.FirstFailure != "large" ||
		!strings.Contains(f.FirstFailureReason, "Insufficient cpu") {
		t.Errorf("fill %+v", f)
	}
}
