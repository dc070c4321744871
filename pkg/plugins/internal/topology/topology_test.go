package topology

import (
	"fmt"
	"reflect"
	"sort"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

const zoneKey = "topology.kubernetes.io/zone"

func testNode(name, zone string) *v1.Node {
	labels := map[string]string{"kubernetes.io/hostname": name}
	if zone != "" {
		labels[zoneKey] = zone
	}
	return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Status: v1.NodeStatus{Allocatable: v1.ResourceList{
			v1.ResourceCPU: resource.MustParse("4"), v1.ResourcePods: resource.MustParse("10")}}}
}

// cluster indexes nodes by zone and returns the index and a lister over them.
func cluster(nodes ...*v1.Node) (*NodeIndex, NodeInfoMap) {
	ix := NewNodeIndex([]string{zoneKey})
	infos := NodeInfoMap{}
	for _, n := range nodes {
		ix.Handler().OnAdd(n, false)
		ni := framework.NewNodeInfo()
		ni.SetNode(n)
		infos[n.Name] = ni
	}
	return ix, infos
}

func cpuPod(cpu string) *v1.Pod {
	return &v1.Pod{Spec: v1.PodSpec{Containers: []v1.Container{{Name: "c",
		Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu)}}}}}}
}

func TestNodeIndexDomains(t *testing.T) {
	ix, _ := cluster(testNode("a1", "a"), testNode("a2", "a"), testNode("b1", "b"), testNode("x", ""))
	if got := fmt.Sprint(ix.Domains(0)); got != "[a b]" {
		t.Errorf("domains %s, want [a b]", got)
	}
	if d, ok := ix.DomainOf(0, "x"); ok {
		t.Errorf("node without the label has domain %q", d)
	}
	counts := ix.DomainCounts(0, map[string]int{"a1": 2, "a2": 1, "b1": 1, "x": 5, "gone": 3})
	if counts["a"] != 3 || counts["b"] != 1 || len(counts) != 2 {
		t.Errorf("counts %v, want a:3 b:1 (unlabelled and unknown nodes not counted)", counts)
	}
	// A node relabelled moves; the last node of a zone leaving ends the zone.
	moved := testNode("b1", "c")
	ix.Handler().OnUpdate(nil, moved)
	if got := fmt.Sprint(ix.Domains(0)); got != "[a c]" {
		t.Errorf("after relabel: %s, want [a c]", got)
	}
	ix.Handler().OnDelete(cache.DeletedFinalStateUnknown{Key: "c1", Obj: moved})
	if got := fmt.Sprint(ix.Domains(0)); got != "[a]" {
		t.Errorf("after a tombstone delete: %s, want [a]", got)
	}
}

// DomainNodes hands out a set the caller keeps without the lock: it must
// stay as it was when the domain changes, be made again only when a node
// joins or leaves the domain, and treat an empty label value as no domain.
func TestDomainNodes(t *testing.T) {
	ix, _ := cluster(testNode("a1", "a"), testNode("a2", "a"), testNode("b1", "b"), testNode("e", ""))
	empty := testNode("e2", "")
	empty.Labels[zoneKey] = ""
	ix.Handler().OnAdd(empty, false)
	a := ix.DomainNodes(0, "a")
	if fmt.Sprint(sets.List(a)) != "[a1 a2]" {
		t.Fatalf("zone a: %v", sets.List(a))
	}
	if got := fmt.Sprint(ix.Domains(0)); got != "[a b]" || ix.NumDomains(0) != 2 {
		t.Errorf("domains %s (%d), want [a b]: an empty value is no domain", got, ix.NumDomains(0))
	}
	// A status update keeps the node's zone: the same set is handed out.
	updated := testNode("a1", "a")
	updated.Status.Allocatable[v1.ResourceCPU] = resource.MustParse("8")
	ix.Handler().OnUpdate(nil, updated)
	if again := ix.DomainNodes(0, "a"); reflect.ValueOf(again).UnsafePointer() != reflect.ValueOf(a).UnsafePointer() {
		t.Errorf("a status update made zone a's set again")
	}
	// A node joining a: a new set, and the one handed out is unchanged.
	ix.Handler().OnAdd(testNode("a3", "a"), false)
	if got := sets.List(ix.DomainNodes(0, "a")); fmt.Sprint(got) != "[a1 a2 a3]" {
		t.Errorf("after a3 joined: %v", got)
	}
	if fmt.Sprint(sets.List(a)) != "[a1 a2]" {
		t.Errorf("the set handed out changed: %v", sets.List(a))
	}
	// A node leaving b by relabelling.
	b := ix.DomainNodes(0, "b")
	ix.Handler().OnUpdate(nil, testNode("b1", "a"))
	if got := ix.DomainNodes(0, "b"); len(got) != 0 || len(b) != 1 {
		t.Errorf("after b1 moved to a: b %v, the old set %v", sets.List(got), sets.List(b))
	}
}

func TestEffectiveMinAndUsableDomains(t *testing.T) {
	cordoned := testNode("c1", "c")
	cordoned.Spec.Unschedulable = true
	tainted := testNode("d1", "d")
	tainted.Spec.Taints = []v1.Taint{{Key: "gpu", Effect: v1.TaintEffectNoSchedule}}
	ix, infos := cluster(testNode("a1", "a"), testNode("b1", "b"), testNode("b2", "b"), cordoned, tainted)
	// b1 is full for a 3-cpu pod; b2 is not.
	full := infos["b1"].(*framework.NodeInfo)
	full.AddPod(cpuPod("2"))

	f := NewFeasibility(cpuPod("3"))
	if got := fmt.Sprint(ix.UsableDomains(0, infos, f)); got != "[a b]" {
		t.Errorf("usable %s, want [a b]: c is cordoned, d tainted", got)
	}
	// c and d hold nothing but cannot take the pod: the minimum is b's.
	m, d, ok := ix.EffectiveMin(0, map[string]int{"a": 3, "b": 1}, infos, f)
	if !ok || m != 1 || d != "b" {
		t.Errorf("EffectiveMin = %d %q %v, want 1 b true", m, d, ok)
	}
	// An empty zone that can take the pod is the minimum.
	if m, d, ok := ix.EffectiveMin(0, map[string]int{"a": 3}, infos, f); !ok || m != 0 || d != "b" {
		t.Errorf("EffectiveMin = %d %q %v, want 0 b true", m, d, ok)
	}
	// Only b2 fits in b: a filter that refuses it leaves b unusable.
	if ix.AnyFits(0, "b", infos, f, func(n string) bool { return n != "b2" }) {
		t.Error("AnyFits found a node in b other than b2")
	}
	// Tolerating the cordon and the taint makes c and d usable.
	tolerant := cpuPod("1")
	tolerant.Spec.Tolerations = []v1.Toleration{{Operator: v1.TolerationOpExists}}
	if got := ix.UsableDomains(0, infos, NewFeasibility(tolerant)); len(got) != 4 {
		t.Errorf("usable for a pod tolerating everything: %v, want 4 zones", got)
	}
	// Required affinity to zone a only.
	pinned := cpuPod("1")
	pinned.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
		NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{{Key: zoneKey, Operator: v1.NodeSelectorOpIn, Values: []string{"a"}}}}}}}}
	if got := fmt.Sprint(ix.UsableDomains(0, infos, NewFeasibility(pinned))); got != "[a]" {
		t.Errorf("usable for a pod pinned to a: %s", got)
	}
	// Nothing fits a 5-cpu pod.
	if _, _, ok := ix.EffectiveMin(0, nil, infos, NewFeasibility(cpuPod("5"))); ok {
		t.Error("EffectiveMin found a zone for a pod no node can take")
	}
}

func TestFeasibilityPodCount(t *testing.T) {
	n := testNode("a1", "a")
	n.Status.Allocatable[v1.ResourcePods] = resource.MustParse("1")
	_, infos := cluster(n)
	f := NewFeasibility(cpuPod("100m"))
	if !f.Fits(infos["a1"]) {
		t.Fatal("empty node with room for one pod does not fit")
	}
	infos["a1"].(*framework.NodeInfo).AddPod(cpuPod("100m"))
	if f.Fits(infos["a1"]) {
		t.Error("node at its pod limit still fits")
	}
}

func TestTracker(t *testing.T) {
	tr := NewTracker[string, string]()
	tr.Place("web", "u1", "n1")
	tr.Place("web", "u2", "n2")
	tr.Place("web", "u1", "n3") // moved
	if got := sorted(tr.Values("web")); got != "[n2 n3]" {
		t.Errorf("web: %s", got)
	}
	// A pod whose owner changes moves between groups.
	tr.Place("db", "u2", "n2")
	if got := sorted(tr.Values("web")); got != "[n3]" {
		t.Errorf("web after u2 changed owner: %s", got)
	}
	if got := sorted(tr.Values("db")); got != "[n2]" {
		t.Errorf("db: %s", got)
	}
	// RemoveIf leaves a newer placement alone.
	tr.RemoveIf("u1", func(n string) bool { return n == "n1" })
	if got := sorted(tr.Values("web")); got != "[n3]" {
		t.Errorf("RemoveIf removed a newer placement: %s", got)
	}
	tr.RemoveIf("u1", func(n string) bool { return n == "n3" })
	tr.Remove(types.UID("u2"))
	tr.Remove(types.UID("never"))
	if len(tr.Values("web"))+len(tr.Values("db")) != 0 {
		t.Errorf("not empty: %v %v", tr.Values("web"), tr.Values("db"))
	}
}

func TestPodHandlerAndPlaced(t *testing.T) {
	var changed, deleted []string
	h := PodHandler(func(p *v1.Pod) { changed = append(changed, p.Name) }, func(p *v1.Pod) { deleted = append(deleted, p.Name) })
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
	h.OnAdd(p, false)
	h.OnUpdate(p, p)
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: p})
	h.OnDelete("not a pod")
	if fmt.Sprint(changed, deleted) != "[p p] [p]" {
		t.Errorf("changed %v deleted %v", changed, deleted)
	}
	if Placed(p) {
		t.Error("unbound pod placed")
	}
	p.Spec.NodeName = "n"
	if !Placed(p) {
		t.Error("bound pod not placed")
	}
	p.Status.Phase = v1.PodSucceeded
	if Placed(p) {
		t.Error("finished pod placed")
	}
}

func sorted(s []string) string {
	sort.Strings(s)
	return fmt.Sprint(s)
}
