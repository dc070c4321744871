package statefulsetaware

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
)

// Tests of the conditions real clusters bring: sets whose ordinals start
// above 0, zones that exist but cannot take a pod, pods that lose their
// owner or are terminating, and preemption's what-ifs.

func (e *env) setStart(name string, r, start int) {
	_ = e.sets.Update(statefulSet(name, r, start))
}

// wantCounted checks how many replicas of set the plugin counts in zone
// when it prepares to place replica ordinal; what says what a wrong count
// means.
func (e *env) wantCounted(t *testing.T, set string, ordinal int, zone string, want int, what string) {
	t.Helper()
	if st, _ := e.pl.prepare(e.pod(set, ordinal)); st.zoneCounts[zone] != want {
		t.Errorf("%s: %v", what, st.zoneCounts)
	}
}

// place records a replica on node as the informer would.
func (e *env) place(p *v1.Pod, node string) *v1.Pod {
	p = p.DeepCopy()
	p.Spec.NodeName = node
	e.pl.podEvents().OnAdd(p, false)
	return p
}

func (e *env) filter(t *testing.T, p *v1.Pod, node string) *fwk.Status {
	t.Helper()
	state := framework.NewCycleState()
	if _, st := e.pl.PreFilter(context.Background(), state, p, nil); !st.IsSuccess() {
		t.Fatalf("PreFilter: %v", st)
	}
	return e.pl.Filter(context.Background(), state, p, e.infos[node])
}

func TestStartOrdinal(t *testing.T) {
	e := newEnv(t, nil, 3, 2)
	e.setStart("db", 5, 5) // db-5 .. db-9
	st, ok := e.pl.prepare(e.pod("db", 7))
	if !ok || st.replicas != 5 || st.allowed != 2 {
		t.Fatalf("db-7 of 5 starting at 5: replicas %d allowed %d, want 5 and 2", st.replicas, st.allowed)
	}
	if st, _ := e.pl.prepare(e.pod("db", 5)); !st.primary {
		t.Error("db-5, the first ordinal, is not the primary")
	}
	if st, _ := e.pl.prepare(e.pod("db", 0)); st.primary {
		t.Error("ordinal 0, below start, taken for the primary")
	}
	// "Beyond R" is ordinal >= start+R: db-9 is a replica, db-10 is not.
	if st, _ := e.pl.prepare(e.pod("db", 10)); st.replicas != 6 {
		t.Errorf("db-10 with start 5 and R 5: replicas %d, want 6", st.replicas)
	}

	// Two replicas in z0 already: R − q = 2, so z0 takes no third.
	e.place(e.pod("db", 6), "z0-n0")
	e.place(e.pod("db", 8), "z0-n1")
	if st := e.filter(t, e.pod("db", 7), "z0-n0"); st.IsSuccess() {
		t.Error("z0 with 2 of 5 replicas accepted a third")
	}

	// A whole set placed from scratch: per zone 2/2/1, ordinal 5+i in zone
	// i mod 3, the primary alone on its node.
	e = newEnv(t, nil, 3, 2)
	e.setStart("db", 5, 5)
	perZone, nodes := map[string]int{}, map[int]string{}
	for i := 5; i < 10; i++ {
		node, st := e.schedule(t, e.pod("db", i))
		if node == "" {
			t.Fatalf("db-%d: %v", i, st)
		}
		perZone[zoneOf(node)]++
		nodes[i] = node
		if want := fmt.Sprintf("z%d", (i-5)%3); zoneOf(node) != want {
			t.Errorf("db-%d in %s, want %s", i, zoneOf(node), want)
		}
	}
	for z, n := range perZone {
		if n > 2 {
			t.Errorf("%s holds %d of 5: losing it loses quorum (%v)", z, n, perZone)
		}
	}
	for i := 6; i < 10; i++ {
		if nodes[i] == nodes[5] {
			t.Errorf("db-%d shares the primary db-5's node", i)
		}
	}
}

// cordonZone marks every node of zone z unschedulable.
func (e *env) cordonZone(z string) {
	for name, ni := range e.infos {
		if zoneOf(name) == z {
			ni.Node().Spec.Unschedulable = true
		}
	}
}

func TestUnusableZoneScheduleAnyway(t *testing.T) {
	pinned := func(p *v1.Pod) {
		p.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
			NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchExpressions: []v1.NodeSelectorRequirement{
				{Key: zoneKey, Operator: v1.NodeSelectorOpIn, Values: []string{"z0", "z1"}}}}}}}}
	}
	for _, tc := range []struct {
		name     string
		unusable func(e *env)
		pod      func(p *v1.Pod)
	}{
		{"cordoned", func(e *env) { e.cordonZone("z2") }, nil},
		{"excluded by the pod's affinity", func(*env) {}, pinned},
		{"full", func(e *env) {
			for name, ni := range e.infos {
				if zoneOf(name) == "z2" {
					ni.(*framework.NodeInfo).AddPod(&v1.Pod{Spec: v1.PodSpec{Containers: plugintest.Requesting("cpu", "16")}})
				}
			}
		}, nil},
	} {
		for _, r := range []int{3, 5} {
			t.Run(fmt.Sprintf("%s/R=%d", tc.name, r), func(t *testing.T) {
				e := newEnv(t, nil, 3, 3)
				tc.unusable(e)
				rec := events.NewFakeRecorder(10)
				e.pl.recorder = rec
				e.setReplicas("db", r)
				perZone, perNode := map[string]int{}, map[string]int{}
				for i := range r {
					p := e.pod("db", i)
					p.Spec.Containers = plugintest.Requesting("cpu", "1")
					if tc.pod != nil {
						tc.pod(p)
					}
					node, st := e.schedule(t, p)
					if node == "" {
						t.Fatalf("db-%d pending under ScheduleAnyway: %v", i, st)
					}
					perZone[zoneOf(node)]++
					perNode[node]++
				}
				// The env's schedule runs only this plugin's Filter, so z2's
				// nodes are not excluded here: the plugin must not pick them.
				if perZone["z2"] != 0 {
					t.Errorf("unusable z2 holds %d", perZone["z2"])
				}
				if d := perZone["z0"] - perZone["z1"]; d < -1 || d > 1 {
					t.Errorf("not the fewest per zone: %v", perZone)
				}
				for n, c := range perNode {
					if c > 1 {
						t.Errorf("node %s holds %d replicas with free nodes left", n, c)
					}
				}
				select {
				case ev := <-rec.Events:
					if !strings.Contains(ev, "QuorumAtRisk") || !strings.Contains(ev, "(z0, z1)") {
						t.Errorf("event %q does not warn naming the usable zones", ev)
					}
				default:
					t.Error("no QuorumAtRisk event")
				}
			})
		}
	}
}

func TestUnusableZoneDoNotSchedule(t *testing.T) {
	args, _ := DefaultArgs()
	args.WhenQuorumAtRisk = config.DoNotSchedule
	e := newEnv(t, args, 3, 2)
	e.cordonZone("z2")
	e.setReplicas("db", 3)
	_, st := e.schedule(t, e.pod("db", 0))
	if st == nil || st.Code() != fwk.UnschedulableAndUnresolvable ||
		!strings.Contains(st.Message(), "2 of the cluster's 3 zones can take the pod (z0, z1)") {
		t.Errorf("got %v, want the usable zones named", st)
	}
	// A pod tolerating the cordon has three usable zones: the guard applies.
	p := e.pod("db", 0)
	p.Spec.Tolerations = []v1.Toleration{{Key: v1.TaintNodeUnschedulable, Operator: v1.TolerationOpExists}}
	if node, st := e.schedule(t, p); node == "" {
		t.Errorf("pod tolerating the cordon: %v", st)
	}
}

// A zone that holds replicas and then fills up still protects them: what
// matters is room for the replicas not yet placed.
func TestFullZoneWithReplicasStaysProtected(t *testing.T) {
	e := newEnv(t, nil, 3, 1)
	e.setReplicas("db", 5)
	e.place(e.pod("db", 2), "z2-n0")
	e.cordonZone("z2")
	state := framework.NewCycleState()
	if _, s := e.pl.PreFilter(context.Background(), state, e.pod("db", 0), nil); !s.IsSuccess() {
		t.Fatal(s)
	}
	got, _ := readState(state)
	if !got.protected {
		t.Errorf("z0 and z1 have room for the 4 left at 2 each, yet not protected: usable %v counts %v", got.usable, got.zoneCounts)
	}
}

func TestOwnerRemovedOrChanged(t *testing.T) {
	e := newEnv(t, nil, 3, 1)
	e.setReplicas("db", 3)
	e.setReplicas("other", 3)
	p := e.place(e.pod("db", 1), "z0-n0")
	if st, _ := e.pl.prepare(e.pod("db", 0)); st.zoneCounts["z0"] != 1 {
		t.Fatalf("db-1 not counted: %v", st.zoneCounts)
	}
	// Quarantined: the controller reference is removed (the controller
	// releases a pod whose labels no longer match). It leaves the counts.
	orphan := p.DeepCopy()
	orphan.OwnerReferences = nil
	e.pl.podEvents().OnUpdate(p, orphan)
	e.wantCounted(t, "db", 0, "z0", 0, "orphaned pod still counted")
	// Adopted by another set: counted there, not in db.
	adopted := orphan.DeepCopy()
	adopted.OwnerReferences = []metav1.OwnerReference{{Kind: "StatefulSet", Name: "other", Controller: ptr.To(true)}}
	adopted.Labels[appsv1.PodIndexLabel] = "2"
	e.pl.podEvents().OnUpdate(orphan, adopted)
	e.wantCounted(t, "other", 0, "z0", 1, "adopted pod not counted in its new set")
	e.wantCounted(t, "db", 0, "z0", 0, "adopted pod still counted in db")
}

// A terminating replica of another ordinal still counts: it serves until it
// is gone, and its successor (same ordinal) will want its place back.
func TestTerminatingReplicaCounts(t *testing.T) {
	e := newEnv(t, nil, 3, 1)
	e.setReplicas("db", 3)
	p := e.pod("db", 1)
	p.DeletionTimestamp = ptr.To(metav1.Now())
	e.place(p, "z0-n0")
	e.wantCounted(t, "db", 0, "z0", 1, "terminating db-1 not counted for db-0")
	// Its own successor does not count it.
	e.wantCounted(t, "db", 1, "z0", 0, "db-1's successor counts the terminating db-1")
}

// Preemption asks what removing a victim or adding a nominated pod does:
// the counts follow, on a copy of the cycle state.
func TestPreFilterExtensions(t *testing.T) {
	e := newEnv(t, nil, 3, 2)
	e.setReplicas("db", 3)
	e.place(e.pod("db", 1), "z0-n0")
	e.place(e.pod("db", 2), "z1-n0")
	ctx := context.Background()
	p := e.pod("db", 0)
	state := framework.NewCycleState()
	if _, st := e.pl.PreFilter(ctx, state, p, nil); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := e.pl.Filter(ctx, state, p, e.infos["z0-n1"]); st.IsSuccess() {
		t.Fatal("z0 with 1 of 3 accepted another")
	}
	victim, err := framework.NewPodInfo(e.pod("db", 1))
	if err != nil {
		t.Fatal(err)
	}
	what := plugintest.RemoveReopens(t, e.pl, state, p, victim, e.infos["z0-n0"], e.infos["z0-n1"])
	// A nominated replica added to z2 fills it.
	nominated, _ := framework.NewPodInfo(e.pod("db", 2))
	other, _ := framework.NewPodInfo(e.pod("other", 2))
	_ = e.pl.PreFilterExtensions().AddPod(ctx, what, p, other, e.infos["z2-n0"])
	if st := e.pl.Filter(ctx, what, p, e.infos["z2-n1"]); !st.IsSuccess() {
		t.Errorf("a pod of another set changed the counts: %v", st)
	}
	_ = e.pl.PreFilterExtensions().AddPod(ctx, what, p, nominated, e.infos["z2-n0"])
	if st := e.pl.Filter(ctx, what, p, e.infos["z2-n1"]); st.IsSuccess() {
		t.Error("a nominated replica in z2 did not count")
	}
}
