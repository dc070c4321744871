package statefulsetaware

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/placer-dev/placer/pkg/placemath"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
	"github.com/placer-dev/placer/pkg/plugins/internal/topology"
)

const zoneKey = "topology.kubernetes.io/zone"

// env is a StatefulSetAware with nodes, sets, claims and volumes fed as the
// informers and listers would.
type env struct {
	pl     *StatefulSetAware
	infos  topology.NodeInfoMap
	sets   cache.Indexer
	pvcs   cache.Indexer
	pvs    cache.Indexer
	uidSeq int
}

func newEnv(t *testing.T, args *config.StatefulSetAwareArgs, zones, nodesPerZone int) *env {
	t.Helper()
	pl := plugintest.Build(t, args, DefaultArgs, newWithArgs)
	e := &env{pl: pl, infos: topology.NodeInfoMap{},
		sets: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
		pvcs: cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
		pvs:  cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{}),
	}
	pl.nodeInfos = e.infos
	pl.sets = appslisters.NewStatefulSetLister(e.sets)
	pl.pvcs = corelisters.NewPersistentVolumeClaimLister(e.pvcs)
	pl.pvs = corelisters.NewPersistentVolumeLister(e.pvs)
	for z := range zones {
		for n := range nodesPerZone {
			e.addNode(fmt.Sprintf("z%d-n%d", z, n), fmt.Sprintf("z%d", z))
		}
	}
	return e
}

// zoneNode is a node of zone with room for 16 cpu and 110 pods.
func zoneNode(name, zone string) *v1.Node {
	return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{zoneKey: zone, "kubernetes.io/hostname": name}},
		Status: v1.NodeStatus{Allocatable: plugintest.Resources("cpu", "16", "pods", "110")}}
}

// replica is the pod of set with ordinal, as the StatefulSet controller
// names, labels and owns it; its UID is its name.
func replica(set string, ordinal int) *v1.Pod {
	name := fmt.Sprintf("%s-%d", set, ordinal)
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name),
		Labels:          map[string]string{appsv1.PodIndexLabel: fmt.Sprint(ordinal)},
		OwnerReferences: []metav1.OwnerReference{{Kind: "StatefulSet", Name: set, Controller: ptr.To(true)}},
	}}
}

// statefulSet is set name of r replicas, ordinals from start (0: no
// ordinals field, as most sets are written).
func statefulSet(name string, r, start int) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(int32(r))}}
	if start != 0 {
		s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: int32(start)}
	}
	return s
}

func (e *env) addNode(name, zone string) {
	n := zoneNode(name, zone)
	ni := framework.NewNodeInfo()
	ni.SetNode(n)
	e.infos[name] = ni
	e.pl.index.Handler().OnAdd(n, false)
}

func (e *env) setReplicas(name string, r int) {
	_ = e.sets.Update(statefulSet(name, r, 0))
}

// pod is a replica with a UID of its own: tests make several pods of one
// name (a replica and its successor).
func (e *env) pod(setName string, ordinal int) *v1.Pod {
	e.uidSeq++
	p := replica(setName, ordinal)
	p.UID = types.UID(fmt.Sprintf("uid-%d", e.uidSeq))
	return p
}

// scheduleFirst schedules replicas 0 to n-1 of set in turn, each of which
// must find a node.
func (e *env) scheduleFirst(t *testing.T, set string, n int) {
	t.Helper()
	for i := range n {
		if node, st := e.schedule(t, e.pod(set, i)); node == "" {
			t.Fatal(st)
		}
	}
}

// schedule runs the plugin's cycle for pod over every node that the other
// plugins would pass and binds it to the best-scoring feasible node (ties: the first by name). It returns the
// node, or "" and the PreFilter status when the pod cannot be placed.
func (e *env) schedule(t *testing.T, pod *v1.Pod) (string, *fwk.Status) {
	t.Helper()
	ctx := context.Background()
	state := framework.NewCycleState()
	if _, st := e.pl.PreFilter(ctx, state, pod, nil); !st.IsSuccess() {
		if st.IsSkip() {
			t.Fatalf("%s: PreFilter skipped", pod.Name)
		}
		return "", st
	}
	names := make([]string, 0, len(e.infos))
	for n := range e.infos {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestScore := "", int64(-1)
	var reasons []string
	// The other plugins' filters, as far as the node alone decides:
	// cordons, taints, affinity, resources.
	others := topology.NewFeasibility(pod)
	for _, n := range names {
		if !others.Fits(e.infos[n]) {
			reasons = append(reasons, "node does not fit")
			continue
		}
		if st := e.pl.Filter(ctx, state, pod, e.infos[n]); !st.IsSuccess() {
			reasons = append(reasons, st.Message())
			continue
		}
		s, st := e.pl.Score(ctx, state, pod, e.infos[n])
		if !st.IsSuccess() {
			t.Fatal(st)
		}
		if s > bestScore {
			best, bestScore = n, s
		}
	}
	if best == "" {
		return "", fwk.NewStatus(fwk.Unschedulable, strings.Join(reasons, "; "))
	}
	e.pl.Reserve(ctx, state, pod, best)
	bound := pod.DeepCopy()
	bound.Spec.NodeName = best
	e.pl.podEvents().OnAdd(bound, false) // the informer's confirmation
	e.pl.PostBind(ctx, state, pod, best)
	return best, nil
}

func zoneOf(node string) string { return strings.SplitN(node, "-", 2)[0] }

// protectable says whether zones that can all take pods can hold R
// replicas with no more than R − q in any one.
func protectable(replicas, zones int) bool {
	n := placemath.DomainsNeeded(replicas)
	return n > 0 && zones >= n
}

func TestQuorumArithmetic(t *testing.T) {
	for r := 1; r <= 7; r++ {
		for zones := 1; zones <= 5; zones++ {
			for _, policy := range []config.QuorumPolicy{config.ScheduleAnyway, config.DoNotSchedule} {
				t.Run(fmt.Sprintf("R=%d/zones=%d/%s", r, zones, policy), func(t *testing.T) {
					args, _ := DefaultArgs()
					args.WhenQuorumAtRisk = policy
					e := newEnv(t, args, zones, 3)
					e.setReplicas("db", r)
					perZone, perNode := map[string]int{}, map[string]int{}
					placed := 0
					for i := range r {
						node, st := e.schedule(t, e.pod("db", i))
						if node == "" {
							if policy == config.DoNotSchedule && !protectable(r, zones) {
								if !strings.Contains(st.Message(), "quorum") {
									t.Errorf("rejection does not say why: %q", st.Message())
								}
								continue
							}
							t.Fatalf("ordinal %d not placed: %v (zones %v)", i, st, perZone)
						}
						placed++
						perZone[zoneOf(node)]++
						perNode[node]++
					}
					q, allowed := placemath.Quorum(r), placemath.AllowedPerDomain(r)
					switch {
					case protectable(r, zones):
						if placed != r {
							t.Fatalf("placed %d of %d", placed, r)
						}
						for z, n := range perZone {
							if r-n < q {
								t.Errorf("losing %s leaves %d of %d, below quorum %d (per zone %v)", z, r-n, r, q, perZone)
							}
						}
						for n, c := range perNode {
							if c > allowed {
								t.Errorf("node %s holds %d > %d", n, c, allowed)
							}
						}
					case policy == config.ScheduleAnyway:
						if placed != r {
							t.Fatalf("placed %d of %d under ScheduleAnyway", placed, r)
						}
						lo, hi := r, 0
						for z := range zones {
							n := perZone[fmt.Sprintf("z%d", z)]
							lo, hi = min(lo, n), max(hi, n)
						}
						if hi-lo > 1 {
							t.Errorf("not the fewest per zone: %v", perZone)
						}
					default:
						if placed != 0 {
							t.Errorf("DoNotSchedule placed %d replicas without protection", placed)
						}
					}
				})
			}
		}
	}
}

func TestProtectable(t *testing.T) {
	// R: q, allowed per zone, zones needed.
	want := map[int][3]int{1: {1, 0, -1}, 2: {2, 0, -1}, 3: {2, 1, 3}, 4: {3, 1, 4}, 5: {3, 2, 3}, 6: {4, 2, 3}, 7: {4, 3, 3}}
	for r, w := range want {
		if placemath.Quorum(r) != w[0] || placemath.AllowedPerDomain(r) != w[1] {
			t.Errorf("R=%d: quorum %d allowed %d, want %d %d", r, placemath.Quorum(r), placemath.AllowedPerDomain(r), w[0], w[1])
		}
		if got := placemath.DomainsNeeded(r); got != max(w[2], 0) {
			t.Errorf("placemath.DomainsNeeded(%d) = %d, want %d", r, got, max(w[2], 0))
		}
	}
}

func TestOrdinalsKeepTheirZone(t *testing.T) {
	e := newEnv(t, nil, 3, 2)
	e.setReplicas("db", 5)
	zones := map[int]string{}
	pods := map[int]*v1.Pod{}
	for i := range 5 {
		pods[i] = e.pod("db", i)
		node, st := e.schedule(t, pods[i])
		if node == "" {
			t.Fatal(st)
		}
		zones[i] = zoneOf(node)
	}
	// Ordinal i goes to zone i mod 3, so every prefix is balanced.
	for i, z := range zones {
		if z != fmt.Sprintf("z%d", i%3) {
			t.Errorf("ordinal %d in %s, want z%d", i, z, i%3)
		}
	}
	// db-1 is deleted and recreated (a new UID): it returns to its zone.
	e.pl.podEvents().OnDelete(pods[1])
	node, _ := e.schedule(t, e.pod("db", 1))
	if zoneOf(node) != zones[1] {
		t.Errorf("recreated db-1 went to %s, had %s", zoneOf(node), zones[1])
	}
}

// A node whose zone label is empty is in no zone, as for ZoneSpread and the
// node index: a protected set's replica is not placed there, where its
// zone's count would never see it.
func TestEmptyZoneValueIsNoZone(t *testing.T) {
	e := newEnv(t, nil, 3, 1)
	e.addNode("e-n0", "")
	e.setReplicas("db", 3)
	ctx := context.Background()
	state := framework.NewCycleState()
	pod := e.pod("db", 0)
	if _, st := e.pl.PreFilter(ctx, state, pod, nil); !st.IsSuccess() {
		t.Fatal(st)
	}
	st := e.pl.Filter(ctx, state, pod, e.infos["e-n0"])
	if st.Code() != fwk.UnschedulableAndUnresolvable || !strings.Contains(st.Message(), "node has no "+zoneKey+" label") {
		t.Errorf("node with an empty zone value: %v, want it rejected as having no zone", st)
	}
}

func TestScaleDownAndUpWhilePending(t *testing.T) {
	e := newEnv(t, nil, 3, 2)
	e.setReplicas("db", 5)
	e.scheduleFirst(t, "db", 5)
	// Scaled down to 3: ordinals 3 and 4 no longer count, so a recreated
	// db-2 is judged against R=3 (1 per zone) without them.
	e.setReplicas("db", 3)
	st, ok := e.pl.prepare(e.pod("db", 2))
	if !ok || st.replicas != 3 || st.allowed != 1 {
		t.Fatalf("after scale-down: %+v", st)
	}
	for z, n := range st.zoneCounts {
		if n > 1 {
			t.Errorf("zone %s counts %d replicas below ordinal 3", z, n)
		}
	}
	// Scaled up to 7 while db-5 is pending: its cycle reads R=7 (3 per zone).
	e.setReplicas("db", 7)
	if st, _ := e.pl.prepare(e.pod("db", 5)); st.replicas != 7 || st.allowed != 3 {
		t.Errorf("after scale-up: replicas %d allowed %d", st.replicas, st.allowed)
	}
	// A pod whose ordinal is beyond spec.replicas counts as a member of the set it was made for.
	if st, _ := e.pl.prepare(e.pod("db", 9)); st.replicas != 10 {
		t.Errorf("ordinal 9 with R=7: replicas %d, want 10", st.replicas)
	}
}

func TestPodsOfDeletedSetsAndOthersAreSkipped(t *testing.T) {
	e := newEnv(t, nil, 3, 1)
	state := framework.NewCycleState()
	for name, p := range map[string]*v1.Pod{
		"deleted set": e.pod("gone", 0),
		"bare pod":    {ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}},
		"deployment":  {ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "rs", Controller: ptr.To(true)}}}},
	} {
		if _, st := e.pl.PreFilter(context.Background(), state, p, nil); !st.IsSkip() {
			t.Errorf("%s: %v, want Skip", name, st)
		}
	}
}

func TestIdentity(t *testing.T) {
	owner := []metav1.OwnerReference{{Kind: "StatefulSet", Name: "web", Controller: ptr.To(true)}}
	for _, tc := range []struct {
		pod     *v1.Pod
		ordinal int
		ok      bool
	}{
		{&v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-3", OwnerReferences: owner, Labels: map[string]string{appsv1.PodIndexLabel: "3"}}}, 3, true},
		{&v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-12", OwnerReferences: owner}}, 12, true}, // from the name
		{&v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-x", OwnerReferences: owner}}, 0, false},
		{&v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "other-1", OwnerReferences: owner}}, 0, false},
	} {
		_, ord, ok := identity(tc.pod)
		if ok != tc.ok || ord != tc.ordinal {
			t.Errorf("%s: %d %v, want %d %v", tc.pod.Name, ord, ok, tc.ordinal, tc.ok)
		}
	}
}

func TestPrimaryApart(t *testing.T) {
	// One zone with three nodes and 7 replicas would allow 3 per node; the
	// primary still gets a node of its own and nobody joins it.
	args, _ := DefaultArgs()
	e := newEnv(t, args, 3, 2)
	e.setReplicas("db", 7)
	nodes := map[int]string{}
	for i := range 7 {
		node, st := e.schedule(t, e.pod("db", i))
		if node == "" {
			t.Fatal(st)
		}
		nodes[i] = node
	}
	for i := 1; i < 7; i++ {
		if nodes[i] == nodes[0] {
			t.Errorf("replica %d shares the primary's node %s", i, nodes[0])
		}
	}
	// A primary chosen by label, arriving after its replicas (placed here by
	// hand, not by the ordinal rule): z0 has 1, z1 has 2, z2 none. Its ordinal
	// zone z0 would pass the guard (2 allowed per zone), but a zone with no
	// other replica comes first.
	args.PrimarySelector = &metav1.LabelSelector{MatchLabels: map[string]string{"role": "primary"}}
	e = newEnv(t, args, 3, 2)
	e.setReplicas("pg", 5)
	for ordinal, node := range map[int]string{1: "z0-n0", 2: "z1-n0", 3: "z1-n1"} {
		p := e.pod("pg", ordinal)
		p.Spec.NodeName = node
		e.pl.podEvents().OnAdd(p, false)
	}
	primary := e.pod("pg", 0)
	primary.Labels["role"] = "primary"
	if st, _ := e.pl.prepare(primary); !st.primary {
		t.Fatal("label selector did not pick the primary")
	}
	if node, st := e.schedule(t, primary); zoneOf(node) != "z2" {
		t.Errorf("primary went to %q (%v), want the empty zone z2", node, st)
	}
	// A replica that is not the primary does not get the isolation preference.
	if st, _ := e.pl.prepare(e.pod("pg", 4)); st.primary {
		t.Error("pg-4 without the label taken for the primary")
	}
}

func TestVolumeZoneWins(t *testing.T) {
	e := newEnv(t, nil, 3, 2)
	e.setReplicas("db", 3)
	// db-0 and db-1 are in z0 and z1. db-2's claim is bound to a volume in z0:
	// the quorum guard would forbid z0 (1 per zone) but VolumeZone requires
	// it; the plugin agrees with the volume instead of leaving db-2 pending.
	e.scheduleFirst(t, "db", 2)
	_ = e.pvs.Add(&v1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-2"},
		Spec: v1.PersistentVolumeSpec{NodeAffinity: &v1.VolumeNodeAffinity{Required: &v1.NodeSelector{NodeSelectorTerms: []v1.NodeSelectorTerm{{
			MatchExpressions: []v1.NodeSelectorRequirement{{Key: zoneKey, Operator: v1.NodeSelectorOpIn, Values: []string{"z0"}}}}}}}}})
	_ = e.pvcs.Add(&v1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-db-2", Namespace: "ns"},
		Spec: v1.PersistentVolumeClaimSpec{VolumeName: "pv-2"}})
	p := e.pod("db", 2)
	p.Spec.Volumes = []v1.Volume{{Name: "data", VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: "data-db-2"}}}}
	node, st := e.schedule(t, p)
	if zoneOf(node) != "z0" {
		t.Errorf("db-2 with its volume in z0 went to %q (%v)", node, st)
	}
	// An unbound claim (WaitForFirstConsumer) has no zone: the ordinal rule decides.
	if z := e.pl.volumeZone(e.pod("db", 1)); z != "" {
		t.Errorf("pod without claims has volume zone %q", z)
	}
}

func TestUnprotectableReasons(t *testing.T) {
	args, _ := DefaultArgs()
	args.WhenQuorumAtRisk = config.DoNotSchedule
	e := newEnv(t, args, 2, 2)
	e.setReplicas("db", 3)
	_, st := e.schedule(t, e.pod("db", 0))
	want := "StatefulSet ns/db has 3 replicas and needs 3 zones to keep a quorum of 2 through a zone's loss (at most 1 per zone); " +
		"2 of the cluster's 2 zones can take the pod (z0, z1), with room for 2 of the 3 replicas still to place (policy DoNotSchedule)"
	if st == nil || st.Code() != fwk.UnschedulableAndUnresolvable || st.Message() != want {
		t.Errorf("got %v, want %q", st, want)
	}
	e.setReplicas("db", 2)
	_, st = e.schedule(t, e.pod("db", 0))
	if st == nil || !strings.Contains(st.Message(), "losing any one zone or node loses its quorum of 2") {
		t.Errorf("R=2: got %v", st)
	}
}

func TestArgsValidation(t *testing.T) {
	for _, tc := range []struct {
		args config.StatefulSetAwareArgs
		want string
	}{
		{config.StatefulSetAwareArgs{WhenQuorumAtRisk: config.DoNotSchedule}, "StatefulSetAwareArgs.topologyKey: Required value"},
		{config.StatefulSetAwareArgs{TopologyKey: zoneKey, WhenQuorumAtRisk: "Maybe"}, `StatefulSetAwareArgs.whenQuorumAtRisk: Unsupported value: "Maybe"`},
		{config.StatefulSetAwareArgs{TopologyKey: zoneKey, WhenQuorumAtRisk: config.DoNotSchedule,
			PrimarySelector: &metav1.LabelSelector{MatchLabels: map[string]string{"bad key!": "x"}}}, "StatefulSetAwareArgs.primarySelector.matchLabels"},
	} {
		_, err := newWithArgs(&tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}
