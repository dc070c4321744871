package quality

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/placer-dev/placer/pkg/bench/result"
)

func mustQ(s string) resource.Quantity { return resource.MustParse(s) }

func node(name, zone, cpu, mem string) Node {
	return Node{Name: name, Zone: zone, Allocatable: v1.ResourceList{
		v1.ResourceCPU: mustQ(cpu), v1.ResourceMemory: mustQ(mem), v1.ResourcePods: mustQ("10")}}
}

func pod(kind, owner, name, node, cpu, mem string) result.Placement {
	return result.Placement{Namespace: "ns", Name: name, OwnerKind: kind, OwnerName: owner, Node: node,
		Requests: v1.ResourceList{v1.ResourceCPU: mustQ(cpu), v1.ResourceMemory: mustQ(mem)}}
}

// Three zones: a has a1, a2; b has b1; c has c1.
var cluster = []Node{
	node("a1", "a", "4", "8Gi"), node("a2", "a", "4", "8Gi"),
	node("b1", "b", "4", "8Gi"), node("c1", "c", "4", "8Gi"),
}

func TestSpread(t *testing.T) {
	pods := []result.Placement{
		// web: a1 a1 a2 b1 → zones a=3 b=1 c=0: zone skew 3; nodes 2,1,1,0: node skew 2.
		pod("Deployment", "web", "w1", "a1", "100m", "1Mi"), pod("Deployment", "web", "w2", "a1", "100m", "1Mi"),
		pod("Deployment", "web", "w3", "a2", "100m", "1Mi"), pod("Deployment", "web", "w4", "b1", "100m", "1Mi"),
		// db: a1 b1 c1 → skew 0 over zones; nodes 1,0,1,1: node skew 1. An unbound replica does not count.
		pod("StatefulSet", "db", "db-0", "a1", "1", "1Gi"), pod("StatefulSet", "db", "db-1", "b1", "1", "1Gi"),
		pod("StatefulSet", "db", "db-2", "c1", "1", "1Gi"), pod("StatefulSet", "db", "db-3", "", "1", "1Gi"),
		// A bare pod belongs to no workload.
		pod("", "", "bare", "c1", "100m", "1Mi"),
	}
	s := spread(cluster, pods)
	want := []result.WorkloadSpread{
		{Workload: "Deployment ns/web", Replicas: 4, Zones: map[string]int{"a": 3, "b": 1, "c": 0}, ZoneSkew: 3, NodeSkew: 2},
		{Workload: "StatefulSet ns/db", Replicas: 3, Zones: map[string]int{"a": 1, "b": 1, "c": 1}, ZoneSkew: 0, NodeSkew: 1},
	}
	if !reflect.DeepEqual(s.Workloads, want) {
		t.Errorf("workloads\n got %+v\nwant %+v", s.Workloads, want)
	}
	if s.WorstZoneSkew != 3 || s.WorstNodeSkew != 2 || s.WorstZoneSkewWorkload != "Deployment ns/web" {
		t.Errorf("worst: %+v", s)
	}
}

func TestAvailability(t *testing.T) {
	pods := []result.Placement{
		// db1: 3 replicas a1, b1, c1: quorum 2 survives any zone or node.
		pod("StatefulSet", "db1", "x-0", "a1", "1", "1Gi"), pod("StatefulSet", "db1", "x-1", "b1", "1", "1Gi"),
		pod("StatefulSet", "db1", "x-2", "c1", "1", "1Gi"),
		// db2: 3 replicas a1, a2, b1: losing zone a leaves 1 < 2; losing a node leaves 2.
		pod("StatefulSet", "db2", "y-0", "a1", "1", "1Gi"), pod("StatefulSet", "db2", "y-1", "a2", "1", "1Gi"),
		pod("StatefulSet", "db2", "y-2", "b1", "1", "1Gi"),
		// db3: 3 replicas, one unbound, two on c1: losing c or c1 leaves 0.
		pod("StatefulSet", "db3", "z-0", "c1", "1", "1Gi"), pod("StatefulSet", "db3", "z-1", "c1", "1", "1Gi"),
		pod("StatefulSet", "db3", "z-2", "", "1", "1Gi"),
		// web: both replicas in zone b.
		pod("Deployment", "web", "w1", "b1", "100m", "1Mi"), pod("Deployment", "web", "w2", "b1", "100m", "1Mi"),
	}
	a := availability(cluster, pods)
	if a.StatefulSets != 3 || a.Deployments != 1 {
		t.Fatalf("counted %d sets, %d deployments", a.StatefulSets, a.Deployments)
	}
	// Zone a: db1 keeps 2, db2 keeps 1 (lost), db3 keeps its 2 on c1.
	// Zone b: every set keeps 2; web loses both replicas.
	// Zone c: db3 keeps 0 (lost).
	wantZones := []result.Impact{
		{Domain: "a", StatefulSetsWithQuorum: 2.0 / 3, DeploymentsAvailable: 1},
		{Domain: "b", StatefulSetsWithQuorum: 1, DeploymentsAvailable: 0},
		{Domain: "c", StatefulSetsWithQuorum: 2.0 / 3, DeploymentsAvailable: 1},
	}
	if !reflect.DeepEqual(a.Zones, wantZones) {
		t.Errorf("zones\n got %+v\nwant %+v", a.Zones, wantZones)
	}
	// Zones a and c both keep 2/3; a comes first and c is not worse.
	if a.WorstZone != wantZones[0] {
		t.Errorf("worst zone %+v", a.WorstZone)
	}
	// Node c1 holds both bound replicas of db3: its loss costs db3 its
	// quorum; no other node's loss costs any set its quorum.
	if a.WorstNode != (result.Impact{Domain: "c1", StatefulSetsWithQuorum: 2.0 / 3, DeploymentsAvailable: 1}) || a.NodesBreakingQuorum != 1 {
		t.Errorf("worst node %+v, nodes breaking quorum %d", a.WorstNode, a.NodesBreakingQuorum)
	}
	// No workloads: nothing to lose.
	if e := availability(cluster, nil); e.WorstZone.StatefulSetsWithQuorum != 1 || e.WorstZone.DeploymentsAvailable != 1 {
		t.Errorf("empty: %+v", e)
	}
}

// singleNodeLosses counts per node instead of recomputing every workload for
// every lost node; on random placements (sets of 1 to 6 replicas, some
// unbound, several on one node; Deployments; pods of other owners) it must
// give what impactOf gives node by node.
func TestSingleNodeLossesMatchesImpactOf(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	kinds := []string{"StatefulSet", "Deployment", "Job", ""}
	for round := range 200 {
		nodes := 1 + rng.IntN(8)
		var pods []result.Placement
		for w := range 1 + rng.IntN(12) {
			kind := kinds[rng.IntN(len(kinds))]
			for r := range 1 + rng.IntN(6) {
				on := ""
				if rng.IntN(5) > 0 {
					on = fmt.Sprintf("n%d", rng.IntN(nodes))
				}
				pods = append(pods, pod(kind, fmt.Sprintf("w%d", w), fmt.Sprintf("w%d-%d", w, r), on, "1", "1Gi"))
			}
		}
		got := singleNodeLosses(pods)
		var want []result.Impact
		for n := range nodes {
			name := fmt.Sprintf("n%d", n)
			held := false
			for _, p := range pods {
				held = held || (p.Node == name && p.OwnerKind != "")
			}
			if held {
				want = append(want, impactOf(pods, func(node string) bool { return node == name }, name))
			}
		}
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: pods %+v\n got %+v\nwant %+v", round, pods, got, want)
		}
	}
}

func TestPacking(t *testing.T) {
	pods := []result.Placement{
		// a1: 3 cpu, 2Gi of 4 cpu, 8Gi → cpu 0.75, memory 0.25. Free fractions 0.25, 0.75:
		// m = 0.25, stranded memory (0.75−0.25)·8Gi = 4Gi, no stranded cpu.
		pod("Deployment", "web", "w1", "a1", "3", "2Gi"),
		// b1: 2 cpu, 4Gi → 0.5, 0.5: nothing stranded.
		pod("Deployment", "web", "w2", "b1", "2", "4Gi"),
		pod("Deployment", "web", "w3", "", "64", "1Gi"),
	}
	p := packing(cluster, pods, v1.ResourceList{v1.ResourceCPU: mustQ("1"), v1.ResourceMemory: mustQ("2Gi")})
	if p.Nodes != 4 || p.NodesInUse != 2 {
		t.Errorf("nodes %d in use %d", p.Nodes, p.NodesInUse)
	}
	// cpu fractions 0.75, 0, 0.5, 0: mean 0.3125, sd sqrt(((0.4375)²+(0.3125)²+(0.1875)²+(0.3125)²)/4).
	cpuSD := math.Sqrt((0.4375*0.4375 + 0.3125*0.3125 + 0.1875*0.1875 + 0.3125*0.3125) / 4)
	// memory fractions 0.25, 0, 0.5, 0: mean 0.1875.
	memSD := math.Sqrt((0.0625*0.0625 + 0.1875*0.1875 + 0.3125*0.3125 + 0.1875*0.1875) / 4)
	gi := float64(1 << 30)
	want := []result.ResourcePacking{
		{Resource: "cpu", RequestedMean: 0.3125, RequestedStdDev: cpuSD},
		{Resource: "memory", RequestedMean: 0.1875, RequestedStdDev: memSD, Stranded: 4 * gi, StrandedFraction: 4 * gi / (32 * gi)},
	}
	if len(p.Resources) != 2 {
		t.Fatalf("resources %+v", p.Resources)
	}
	for i, w := range want {
		g := p.Resources[i]
		if g.Resource != w.Resource || !near(g.RequestedMean, w.RequestedMean) || !near(g.RequestedStdDev, w.RequestedStdDev) ||
			!near(g.Stranded, w.Stranded) || !near(g.StrandedFraction, w.StrandedFraction) {
			t.Errorf("%s: got %+v, want %+v", w.Resource, g, w)
		}
	}
	wantNodes := []result.NodeUsage{{Name: "a1", Zone: "a", CPU: 0.75, Memory: 0.25}, {Name: "a2", Zone: "a"}, {Name: "b1", Zone: "b", CPU: 0.5, Memory: 0.5}, {Name: "c1", Zone: "c"}}
	if !reflect.DeepEqual(p.PerNode, wantNodes) {
		t.Errorf("per node %+v, want %+v", p.PerNode, wantNodes)
	}
	// 1 cpu + 2Gi pods: a1 has 1 cpu, 6Gi → 1; b1 has 2, 4Gi → 2; a2 and c1 4 each → 11.
	if p.ReferencePodsFit != 11 {
		t.Errorf("reference pods fit %d, want 11", p.ReferencePodsFit)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func TestOutcomesAndReasons(t *testing.T) {
	msg := "0/6 nodes are available: 3 Insufficient cpu, 3 node(s) didn't match pod topology spread constraints. preemption: 0/6 nodes are available: 6 No preemption victims found for incoming pod."
	if got := Reasons(msg); !reflect.DeepEqual(got, []string{"Insufficient cpu", "node(s) didn't match pod topology spread constraints"}) {
		t.Errorf("reasons %q", got)
	}
	pods := []result.Placement{
		{Name: "a", Unschedulable: true, Reason: msg},
		{Name: "b", Unschedulable: true, Reason: "0/6 nodes are available: 6 Insufficient cpu."},
		{Name: "c", Node: "a1"},
		{Name: "d"}, // not yet tried: neither bound nor unschedulable
	}
	o := outcomes(pods)
	want := result.Outcomes{Bound: 1, Unschedulable: 2, TopReasons: []result.ReasonCount{
		{Reason: "Insufficient cpu", Pods: 2}, {Reason: "node(s) didn't match pod topology spread constraints", Pods: 1}}}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("outcomes\n got %+v\nwant %+v", o, want)
	}
}

// TestGPUPacking: GPUs are counted against the cluster's capacity, and free
// GPUs on a node whose cpu is used up are stranded.
func TestGPUPacking(t *testing.T) {
	gpu := v1.ResourceName("nvidia.com/gpu")
	gpuNode := func(name, cpu string, gpus string) Node {
		n := node(name, "a", cpu, "64Gi")
		n.Allocatable[gpu] = mustQ(gpus)
		return n
	}
	nodes := []Node{gpuNode("g8", "8", "8"), gpuNode("g2", "8", "2"), node("c1", "a", "8", "8Gi")}
	gpuPod := func(name, node, cpu, gpus string) result.Placement {
		p := pod("", "", name, node, cpu, "1Gi")
		p.Requests[gpu] = mustQ(gpus)
		return p
	}
	pods := []result.Placement{
		// g8: 1 GPU taken, but 7.5 of its 8 cpus: no GPU pod (at least 2 cpus) fits its 7 free GPUs.
		gpuPod("train-0", "g8", "7500m", "1"),
		// g2: both GPUs taken.
		gpuPod("train-1", "g2", "2", "2"),
		// A pending GPU pod still says what the smallest GPU pod needs.
		gpuPod("train-2", "", "4", "1"),
		pod("", "", "web", "c1", "1", "1Gi"),
	}
	p := packing(nodes, pods, nil)
	var got *result.ResourcePacking
	for i := range p.Resources {
		if p.Resources[i].Resource == string(gpu) {
			got = &p.Resources[i]
		}
	}
	if got == nil {
		t.Fatalf("no %s in %+v", gpu, p.Resources)
	}
	// 3 of 10 GPUs requested; the per-node mean (1/8 and 2/2) would say 56%.
	if math.Abs(got.RequestedOfCapacity-0.3) > 1e-9 || math.Abs(got.RequestedMean-0.5625) > 1e-9 {
		t.Errorf("requested of capacity %v, mean %v; want 0.3 and 0.5625", got.RequestedOfCapacity, got.RequestedMean)
	}
	if got.Stranded != 7 || math.Abs(got.StrandedFraction-0.7) > 1e-9 {
		t.Errorf("stranded %v GPUs (%v), want 7 (0.7)", got.Stranded, got.StrandedFraction)
	}
	// Without any GPU pod there is no smallest GPU pod, and nothing is
	// counted stranded.
	p = packing(nodes, pods[3:], nil)
	for _, rp := range p.Resources {
		if rp.Resource == string(gpu) && rp.Stranded != 0 {
			t.Errorf("stranded %v GPUs with no GPU pod", rp.Stranded)
		}
	}
}

// Capacity that pods of others took before the run (a snapshot's) counts:
// the node is in use, its requests include them, fewer reference pods fit.
func TestPackingCountsOccupied(t *testing.T) {
	busy := node("a1", "a", "4", "8Gi")
	busy.Occupied = v1.ResourceList{v1.ResourceCPU: mustQ("2"), v1.ResourceMemory: mustQ("2Gi")}
	busy.OccupiedPods = 9
	nodes := []Node{busy, node("b1", "b", "4", "8Gi")}
	pods := []result.Placement{pod("Deployment", "web", "w1", "a1", "1", "2Gi")}
	p := packing(nodes, pods, v1.ResourceList{v1.ResourceCPU: mustQ("1"), v1.ResourceMemory: mustQ("2Gi")})
	if p.NodesInUse != 1 {
		t.Errorf("nodes in use %d, want 1", p.NodesInUse)
	}
	if got := p.PerNode[0]; got.CPU != 0.75 || got.Memory != 0.5 {
		t.Errorf("a1 %+v, want cpu 0.75 and memory 0.5 (others' 2 cpu, 2Gi and the run's 1 cpu, 2Gi)", got)
	}
	// a1 holds 10 pods of its 10: none fits; b1 takes 4.
	if p.ReferencePodsFit != 4 {
		t.Errorf("reference pods fit %d, want 4", p.ReferencePodsFit)
	}
}
