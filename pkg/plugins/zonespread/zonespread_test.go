package zonespread

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
	"github.com/placer-dev/placer/pkg/plugins/internal/topology"
)

const zoneKey, hostKey = "topology.kubernetes.io/zone", "kubernetes.io/hostname"

func mkNode(name, zone string) *v1.Node {
	labels := map[string]string{hostKey: name}
	if zone != "" {
		labels[zoneKey] = zone
	}
	alloc := plugintest.Resources("cpu", "4", "memory", "8Gi", "pods", "110")
	return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Status: v1.NodeStatus{Allocatable: alloc, Capacity: alloc}}
}

func owned(name, kind, owner string) *v1.Pod {
	p := &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)},
		Spec:       v1.PodSpec{Containers: plugintest.Requesting("cpu", "1")},
	}
	if kind != "" {
		p.OwnerReferences = []metav1.OwnerReference{{Kind: kind, Name: owner, Controller: ptr.To(true), APIVersion: "apps/v1"}}
	}
	return p
}

// cluster is a ZoneSpread with nodes and placed pods fed through its event
// handlers, as the informers would.
type cluster struct {
	pl    *ZoneSpread
	infos topology.NodeInfoMap
}

func newCluster(t *testing.T, args *config.ZoneSpreadArgs, nodes ...*v1.Node) *cluster {
	t.Helper()
	pl := plugintest.Build(t, args, DefaultArgs, newWithArgs)
	c := &cluster{pl: pl, infos: topology.NodeInfoMap{}}
	pl.nodeInfos = c.infos
	for _, n := range nodes {
		c.addNode(n)
	}
	return c
}

func (c *cluster) addNode(n *v1.Node) {
	ni := framework.NewNodeInfo()
	ni.SetNode(n)
	c.infos[n.Name] = ni
	c.pl.index.Handler().OnAdd(n, false)
}

func (c *cluster) bind(p *v1.Pod, node string) {
	p = p.DeepCopy()
	p.Spec.NodeName = node
	c.infos[node].(*framework.NodeInfo).AddPod(p)
	c.pl.podEvents().OnAdd(p, false)
}

// bindReplicas binds replicas w1, w2, ... of the kind's owner, one to each
// of nodes in turn.
func (c *cluster) bindReplicas(kind, owner string, nodes ...string) {
	for i, node := range nodes {
		c.bind(owned(fmt.Sprintf("w%d", i+1), kind, owner), node)
	}
}

// feasibleNodes runs PreFilter and Filter on every node and returns those passing.
func (c *cluster) feasibleNodes(t *testing.T, p *v1.Pod) ([]string, map[string]string) {
	t.Helper()
	state := framework.NewCycleState()
	res, st := c.pl.PreFilter(context.Background(), state, p, nil)
	var names []string
	reasons := map[string]string{}
	for name, ni := range c.infos {
		if st.IsSkip() {
			names = append(names, name)
			continue
		}
		fs := c.pl.Filter(context.Background(), state, p, ni)
		// A node left out of the PreFilterResult is one the framework never
		// evaluates: Filter must have rejected it too.
		if !res.AllNodes() && !res.NodeNames.Has(name) && fs.IsSuccess() {
			t.Errorf("%s: PreFilter left out %s, which Filter accepts", p.Name, name)
		}
		if fs.IsSuccess() {
			names = append(names, name)
		} else {
			reasons[name] = strings.Join(fs.Reasons(), "; ")
		}
	}
	sort.Strings(names)
	return names, reasons
}

// threeZones: zone a has 3 nodes, b 2, c 1 (unequal sizes).
func threeZones() []*v1.Node {
	return []*v1.Node{mkNode("a1", "a"), mkNode("a2", "a"), mkNode("a3", "a"), mkNode("b1", "b"), mkNode("b2", "b"), mkNode("c1", "c")}
}

// narrowedTo runs PreFilter and returns the nodes of its PreFilterResult,
// sorted, or nil when it leaves every node in.
func (c *cluster) narrowedTo(t *testing.T, p *v1.Pod) []string {
	t.Helper()
	res, st := c.pl.PreFilter(context.Background(), framework.NewCycleState(), p, nil)
	if !st.IsSuccess() && !st.IsSkip() {
		t.Fatalf("PreFilter: %v", st)
	}
	if res.AllNodes() {
		return nil
	}
	return sets.List(res.NodeNames)
}

// PreFilter names the nodes of the only zone left to the pod, so that the
// framework never evaluates those of the over-skewed zones; with two zones
// left, or with a replica preemption could evict for the pod, it names none.
func TestPreFilterNarrowsToTheOnlyZoneLeft(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
	c.bindReplicas("StatefulSet", "web", "a1")
	if got := c.narrowedTo(t, owned("w9", "StatefulSet", "web")); got != nil {
		t.Errorf("zones b and c both left: narrowed to %v", got)
	}
	c.bind(owned("w2", "StatefulSet", "web"), "b1")
	if got := fmt.Sprint(c.narrowedTo(t, owned("w9", "StatefulSet", "web"))); got != "[c1]" {
		t.Errorf("only zone c left: narrowed to %s, want [c1]", got)
	}
	// A node joining zone c is in the next cycle's set.
	c.addNode(mkNode("c2", "c"))
	if got := fmt.Sprint(c.narrowedTo(t, owned("w9", "StatefulSet", "web"))); got != "[c1 c2]" {
		t.Errorf("after c2 joined: narrowed to %s, want [c1 c2]", got)
	}
	// A pod of higher priority than a replica could preempt it: zones a
	// and b stay candidates.
	urgent := owned("w9", "StatefulSet", "web")
	urgent.Spec.Priority = ptr.To[int32](1000)
	if got := c.narrowedTo(t, urgent); got != nil {
		t.Errorf("a replica of lower priority: narrowed to %v", got)
	}
	// Equal priorities: preemption cannot evict a replica for another.
	for _, name := range []string{"w1", "w2"} {
		p := owned(name, "StatefulSet", "web")
		p.Spec.Priority = ptr.To[int32](1000)
		c.bind(p, map[string]string{"w1": "a1", "w2": "b1"}[name])
	}
	if got := fmt.Sprint(c.narrowedTo(t, urgent)); got != "[c1 c2]" {
		t.Errorf("replicas of equal priority: narrowed to %s, want [c1 c2]", got)
	}
}

func TestSkewBound(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
	// Deployment web: 2 in a, 1 in b, 1 in c.
	c.bindReplicas("StatefulSet", "web", "a1", "a2", "b1", "c1")
	got, reasons := c.feasibleNodes(t, owned("w5", "StatefulSet", "web"))
	if want := []string{"b1", "b2", "c1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("feasible = %v, want %v", got, want)
	}
	want := "topology.kubernetes.io/zone=a would hold 3 replicas of StatefulSet ns/web against 1 in b (maxSkew 1)"
	if reasons["a3"] != want {
		t.Errorf("reason on a3 = %q, want %q", reasons["a3"], want)
	}
	// Another workload in the same namespace is counted on its own.
	if got, _ := c.feasibleNodes(t, owned("x1", "StatefulSet", "other")); len(got) != 6 {
		t.Errorf("unrelated workload restricted to %v", got)
	}
}

func TestMaxSkewTwo(t *testing.T) {
	args, _ := DefaultArgs()
	args.Constraints[0].MaxSkew = ptr.To[int32](2)
	c := newCluster(t, args, threeZones()...)
	c.bindReplicas("Job", "j", "a1", "a2")
	// a holds 2, b and c 0: a third in a would make skew 3.
	got, _ := c.feasibleNodes(t, owned("w3", "Job", "j"))
	if fmt.Sprint(got) != "[b1 b2 c1]" {
		t.Errorf("feasible = %v", got)
	}
	c.bind(owned("w3", "Job", "j"), "b1")
	// a 2, b 1, c 0: a third in a -> 3-0 = 3 > 2; in b -> 2-0 ok.
	if got, _ := c.feasibleNodes(t, owned("w4", "Job", "j")); fmt.Sprint(got) != "[b1 b2 c1]" {
		t.Errorf("feasible = %v", got)
	}
}

func TestZoneThatCannotTakeThePodDoesNotBlock(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block func(n *v1.Node)
		pod   func(p *v1.Pod)
	}{
		{"cordoned", func(n *v1.Node) { n.Spec.Unschedulable = true }, nil},
		{"tainted", func(n *v1.Node) {
			n.Spec.Taints = []v1.Taint{{Key: "dedicated", Value: "db", Effect: v1.TaintEffectNoSchedule}}
		}, nil},
		{"full", func(n *v1.Node) { maps.Copy(n.Status.Allocatable, plugintest.Resources("cpu", "500m")) }, nil},
		{"excluded by node selector", nil, func(p *v1.Pod) { p.Spec.NodeSelector = map[string]string{"tier": "gold"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := threeZones()
			for _, n := range nodes {
				switch {
				case n.Labels[zoneKey] == "c" && tc.block != nil:
					tc.block(n)
				case n.Labels[zoneKey] != "c":
					n.Labels["tier"] = "gold"
				}
			}
			c := newCluster(t, nil, nodes...)
			c.bindReplicas("ReplicationController", "rc", "a1", "b1")
			p := owned("w3", "ReplicationController", "rc")
			if tc.pod != nil {
				tc.pod(p)
			}
			// Zone c (0 replicas) cannot take the pod: the minimum is a's and
			// b's 1, so a and b stay open instead of deadlocking on c.
			got, reasons := c.feasibleNodes(t, p)
			if len(got) < 5 || !strings.HasPrefix(strings.Join(got, ","), "a1,a2,a3,b1,b2") {
				t.Errorf("feasible = %v (reasons %v), want all of zones a and b", got, reasons)
			}
		})
	}
}

func TestTolerationsAndAffinityCountAsFeasible(t *testing.T) {
	nodes := threeZones()
	nodes[5].Spec.Taints = []v1.Taint{{Key: "dedicated", Value: "db", Effect: v1.TaintEffectNoSchedule}}
	c := newCluster(t, nil, nodes...)
	c.bindReplicas("StatefulSet", "db", "a1", "b1")
	p := owned("w3", "StatefulSet", "db")
	p.Spec.Tolerations = []v1.Toleration{{Key: "dedicated", Operator: v1.TolerationOpEqual, Value: "db", Effect: v1.TaintEffectNoSchedule}}
	// The pod tolerates c's taint, so c (0) is the minimum and a, b (1) are closed... to a second replica: 2-0 > 1.
	if got, _ := c.feasibleNodes(t, p); fmt.Sprint(got) != "[c1]" {
		t.Errorf("feasible = %v, want [c1]", got)
	}
}

func TestZonesAppearAndVanish(t *testing.T) {
	c := newCluster(t, nil, mkNode("a1", "a"), mkNode("b1", "b"))
	c.bindReplicas("StatefulSet", "s", "a1", "b1")
	// A new, empty zone appears: it becomes the minimum.
	c.addNode(mkNode("c1", "c"))
	if got, _ := c.feasibleNodes(t, owned("w3", "StatefulSet", "s")); fmt.Sprint(got) != "[c1]" {
		t.Errorf("after zone c appeared: feasible = %v, want [c1]", got)
	}
	// Zone c vanishes: a and b are level again and both open.
	delete(c.infos, "c1")
	c.pl.index.Handler().OnDelete(cache.DeletedFinalStateUnknown{Key: "c1", Obj: mkNode("c1", "c")})
	if got, _ := c.feasibleNodes(t, owned("w3", "StatefulSet", "s")); fmt.Sprint(got) != "[a1 b1]" {
		t.Errorf("after zone c vanished: feasible = %v, want [a1 b1]", got)
	}
}

func TestNodesWithoutTheKey(t *testing.T) {
	// Some nodes zoned, one not: the unzoned node is rejected, as upstream does.
	c := newCluster(t, nil, mkNode("a1", "a"), mkNode("b1", "b"), mkNode("x", ""))
	got, reasons := c.feasibleNodes(t, owned("w1", "StatefulSet", "s"))
	if fmt.Sprint(got) != "[a1 b1]" || !strings.Contains(reasons["x"], "node has no topology.kubernetes.io/zone label") {
		t.Errorf("feasible = %v, reasons %v", got, reasons)
	}
	// An empty value is no zone either: counting it as one, with never a
	// replica, held every zone's minimum at 0.
	empty := mkNode("e", "")
	empty.Labels[zoneKey] = ""
	c.addNode(empty)
	c.bind(owned("w1", "StatefulSet", "s"), "a1")
	got, reasons = c.feasibleNodes(t, owned("w2", "StatefulSet", "s"))
	if fmt.Sprint(got) != "[b1]" || !strings.Contains(reasons["e"], "node has no topology.kubernetes.io/zone label") {
		t.Errorf("with an empty zone value: feasible = %v, reasons %v", got, reasons)
	}
	// A cluster with no zones at all: the zone bound does not apply.
	c = newCluster(t, nil, mkNode("x", ""), mkNode("y", ""))
	c.bind(owned("w1", "StatefulSet", "s"), "x")
	if got, _ := c.feasibleNodes(t, owned("w2", "StatefulSet", "s")); fmt.Sprint(got) != "[x y]" {
		t.Errorf("zoneless cluster: feasible = %v, want both nodes", got)
	}
}

func TestPodsLeftToOthers(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
	state := framework.NewCycleState()
	withTSC := owned("p", "StatefulSet", "s")
	withTSC.Spec.TopologySpreadConstraints = []v1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: zoneKey, WhenUnsatisfiable: v1.DoNotSchedule}}
	optedOut := owned("q", "StatefulSet", "s")
	optedOut.Annotations = map[string]string{OptOutAnnotation: "true"}
	for name, p := range map[string]*v1.Pod{
		"own constraints": withTSC, "opted out": optedOut,
		"no controller": owned("r", "", ""), "daemonset": owned("d", "DaemonSet", "ds"),
	} {
		if _, st := c.pl.PreFilter(context.Background(), state, p, nil); !st.IsSkip() {
			t.Errorf("%s: PreFilter = %v, want Skip", name, st)
		}
		if st := c.pl.PreScore(context.Background(), state, p, nil); !st.IsSkip() {
			t.Errorf("%s: PreScore = %v, want Skip", name, st)
		}
	}
	// Configured to take pods with their own constraints too.
	args, _ := DefaultArgs()
	args.IgnorePodsWithSpreadConstraints = false
	c = newCluster(t, args, threeZones()...)
	if _, st := c.pl.PreFilter(context.Background(), state, withTSC, nil); st.IsSkip() {
		t.Error("pod with its own constraints skipped although configured not to be")
	}
}

func TestWorkloadResolution(t *testing.T) {
	rsIndexer := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	_ = rsIndexer.Add(&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "ns",
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: ptr.To(true)}}}})
	_ = rsIndexer.Add(&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "solo-xyz", Namespace: "ns"}})
	lister := appslisters.NewReplicaSetLister(rsIndexer)

	hashed := owned("h", "ReplicaSet", "api-7f9c")
	hashed.Labels = map[string]string{"pod-template-hash": "7f9c"}
	cases := []struct {
		name     string
		r        resolver
		pod      *v1.Pod
		want     string
		wantNone bool
	}{
		{"rs of a deployment, from the lister", resolver{groupByDeployment: true, replicaSets: lister}, owned("p", "ReplicaSet", "web-abc"), "Deployment ns/web", false},
		{"rs without owner", resolver{groupByDeployment: true, replicaSets: lister}, owned("p", "ReplicaSet", "solo-xyz"), "ReplicaSet ns/solo-xyz", false},
		{"rs not yet in the lister, by pod-template-hash", resolver{groupByDeployment: true, replicaSets: lister}, hashed, "Deployment ns/api", false},
		{"grouping off", resolver{groupByDeployment: false, replicaSets: lister}, owned("p", "ReplicaSet", "web-abc"), "ReplicaSet ns/web-abc", false},
		{"statefulset", resolver{}, owned("p", "StatefulSet", "db"), "StatefulSet ns/db", false},
		{"job", resolver{}, owned("p", "Job", "batch"), "Job ns/batch", false},
		{"replicationcontroller", resolver{}, owned("p", "ReplicationController", "rc"), "ReplicationController ns/rc", false},
		{"daemonset", resolver{}, owned("p", "DaemonSet", "ds"), "", true},
		{"bare pod", resolver{}, owned("p", "", ""), "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := tc.r.workloadOf(tc.pod)
			if ok == tc.wantNone || (ok && w.String() != tc.want) {
				t.Errorf("workloadOf = %v, %v; want %q", w, ok, tc.want)
			}
		})
	}
}

func TestRollingUpdateBoundsTheNewReplicaSet(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
	rsPod := func(name, hash string) *v1.Pod {
		p := owned(name, "ReplicaSet", "web-"+hash)
		p.Labels = map[string]string{"pod-template-hash": hash}
		return p
	}
	// Old ReplicaSet: b, b, c. New: a. The Deployment holds a:1 b:2 c:1.
	c.bind(rsPod("old1", "1111"), "b1")
	c.bind(rsPod("old2", "1111"), "b2")
	c.bind(rsPod("old3", "1111"), "c1")
	c.bind(rsPod("new1", "2222"), "a1")
	// Counted together, a (2 against 1) would pass; but the old pods go
	// wherever the ReplicaSet controller deletes them, and what is left is
	// the new ReplicaSet, a:2 against 0. The bound is on the new ReplicaSet.
	nu := rsPod("new2", "2222")
	if got, _ := c.feasibleNodes(t, nu); fmt.Sprint(got) != "[b1 b2 c1]" {
		t.Errorf("feasible = %v, want zones b and c", got)
	}
	// Scoring spreads the Deployment as one: c (1) before b (2).
	ctx := context.Background()
	state := framework.NewCycleState()
	if st := c.pl.PreScore(ctx, state, nu, nil); !st.IsSuccess() {
		t.Fatal(st)
	}
	b, _ := c.pl.Score(ctx, state, nu, c.infos["b1"])
	cc, _ := c.pl.Score(ctx, state, nu, c.infos["c1"])
	if cc >= b {
		t.Errorf("load in c %d, in b %d: the old ReplicaSet's pods do not count for the Deployment", cc, b)
	}
}

func TestReserveUnreserveAndInformerAgree(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
	p := owned("w1", "StatefulSet", "s")
	w, _ := c.pl.resolver.workloadOf(p)
	ctx := context.Background()
	c.pl.Reserve(ctx, nil, p, "a1")
	if got := c.pl.perNode(w); got["a1"] != 1 {
		t.Fatalf("after Reserve: %v", got)
	}
	// The informer reports the bound pod: still one, not two.
	c.bind(p, "a1")
	if got := c.pl.perNode(w); got["a1"] != 1 || len(got) != 1 {
		t.Errorf("after the informer confirmed: %v", got)
	}
	// An Unreserve for another node does not undo the placement.
	c.pl.Unreserve(ctx, nil, p, "b1")
	if got := c.pl.perNode(w); got["a1"] != 1 {
		t.Errorf("after a stale Unreserve: %v", got)
	}
	q := owned("w2", "StatefulSet", "s")
	c.pl.Reserve(ctx, nil, q, "b1")
	c.pl.Unreserve(ctx, nil, q, "b1")
	if got := c.pl.perNode(w); got["b1"] != 0 {
		t.Errorf("after Unreserve: %v", got)
	}
	// A finished pod stops counting; a deleted one too.
	done := p.DeepCopy()
	done.Spec.NodeName = "a1"
	done.Status.Phase = v1.PodSucceeded
	c.pl.podEvents().OnUpdate(p, done)
	if got := c.pl.perNode(w); len(got) != 0 {
		t.Errorf("after the pod finished: %v", got)
	}
	c.bind(q, "c1")
	c.pl.podEvents().OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/w2", Obj: q})
	if got := c.pl.perNode(w); len(got) != 0 {
		t.Errorf("after delete: %v", got)
	}
}

func TestScorePrefersLeastLoadedZoneThenNode(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
	// a: 1 (on a1), b: 1 (on b1), c: 1 (c1), then a second in a on a2.
	c.bindReplicas("StatefulSet", "s", "a1", "b1", "c1", "a2")
	p := owned("w5", "StatefulSet", "s")
	state := framework.NewCycleState()
	if st := c.pl.PreScore(context.Background(), state, p, nil); !st.IsSuccess() {
		t.Fatal(st)
	}
	var scores framework.NodeScoreList
	for name, ni := range c.infos {
		s, st := c.pl.Score(context.Background(), state, p, ni)
		if !st.IsSuccess() {
			t.Fatal(st)
		}
		scores = append(scores, framework.NodeScore{Name: name, Score: s})
	}
	c.pl.NormalizeScore(context.Background(), state, p, scores)
	got := map[string]int64{}
	for _, s := range scores {
		got[s.Name] = s.Score
	}
	// Zones b and c hold 1 each, a holds 2. Inside b, b2 (empty) beats b1.
	if !(got["b2"] == 100 && got["b2"] > got["b1"] && got["b1"] > got["a3"] && got["a3"] > got["a1"] && got["c1"] == got["b1"]) {
		t.Errorf("scores %v do not rank least-loaded zone then node", got)
	}
	if got["a1"] != got["a2"] || got["a1"] != 0 {
		t.Errorf("most loaded nodes should score 0: %v", got)
	}
}

func TestArgsValidation(t *testing.T) {
	for _, tc := range []struct {
		args config.ZoneSpreadArgs
		want string
	}{
		{config.ZoneSpreadArgs{}, "ZoneSpreadArgs.constraints: Required value"},
		{config.ZoneSpreadArgs{Constraints: []config.ZoneSpreadConstraint{{TopologyKey: zoneKey, MaxSkew: ptr.To[int32](0)}}},
			"ZoneSpreadArgs.constraints[0].maxSkew: Invalid value: 0"},
		{config.ZoneSpreadArgs{Constraints: []config.ZoneSpreadConstraint{{TopologyKey: zoneKey}, {TopologyKey: zoneKey}}},
			`ZoneSpreadArgs.constraints[1].topologyKey: Duplicate value: "topology.kubernetes.io/zone"`},
		{config.ZoneSpreadArgs{Constraints: []config.ZoneSpreadConstraint{{TopologyKey: "bad key!"}}},
			`ZoneSpreadArgs.constraints[0].topologyKey: Invalid value: "bad key!"`},
		{config.ZoneSpreadArgs{Constraints: []config.ZoneSpreadConstraint{{TopologyKey: "a"}, {TopologyKey: "b"}, {TopologyKey: "c"}, {TopologyKey: "d"}}},
			"ZoneSpreadArgs.constraints: Too many: 4: must have at most 3 items"},
	} {
		_, err := newWithArgs(&tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}
