package zonespread

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
)

// Tests of what real clusters do to the counts: pods that lose or change
// their owner, pods that are terminating, and preemption's what-ifs.

func (c *cluster) zoneCounts(t *testing.T, kind, owner string) string {
	t.Helper()
	w, _ := c.pl.resolver.workloadOf(owned("probe", kind, owner))
	counts := c.pl.index.DomainCounts(0, c.pl.perNode(w))
	return fmt.Sprintf("a:%d b:%d c:%d", counts["a"], counts["b"], counts["c"])
}

// observeBound gives the plugin's pod handler p bound to node, as the
// informer would, and returns it.
func (c *cluster) observeBound(p *v1.Pod, node string) *v1.Pod {
	p.Spec.NodeName = node
	c.pl.podEvents().OnAdd(p, false)
	return p
}

// wantZoneCounts checks the zone counts of the kind's owner; what says
// what wrong counts mean.
func (c *cluster) wantZoneCounts(t *testing.T, kind, owner, want, what string) {
	t.Helper()
	if got := c.zoneCounts(t, kind, owner); got != want {
		t.Errorf("%s: %s %s", what, owner, got)
	}
}

func TestOwnerRemovedOrChanged(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
	p := c.observeBound(owned("w1", "StatefulSet", "web"), "a1")
	if got := c.zoneCounts(t, "StatefulSet", "web"); got != "a:1 b:0 c:0" {
		t.Fatalf("web %s", got)
	}
	// Released by its controller (quarantined by relabelling): not a replica.
	orphan := p.DeepCopy()
	orphan.OwnerReferences = nil
	c.pl.podEvents().OnUpdate(p, orphan)
	c.wantZoneCounts(t, "StatefulSet", "web", "a:0 b:0 c:0", "orphan still counted")
	// Adopted by another workload: counted there only.
	adopted := orphan.DeepCopy()
	adopted.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "api", Controller: ptr.To(true)}}
	c.pl.podEvents().OnUpdate(orphan, adopted)
	c.wantZoneCounts(t, "ReplicaSet", "api", "a:1 b:0 c:0", "adopted pod")
	// Adopted by a kind ZoneSpread does not spread (a DaemonSet): gone.
	daemon := adopted.DeepCopy()
	daemon.OwnerReferences[0].Kind = "DaemonSet"
	c.pl.podEvents().OnUpdate(adopted, daemon)
	c.wantZoneCounts(t, "ReplicaSet", "api", "a:0 b:0 c:0", "pod now of a DaemonSet still counted")
}

// Terminating replicas do not count, as in PodTopologySpread: in a rolling
// update the new pods fill the zones the old ones are leaving.
func TestTerminatingReplicasDoNotCount(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
	c.bindReplicas("StatefulSet", "web", "a1", "b1")
	leaving := c.observeBound(owned("w3", "StatefulSet", "web"), "c1")
	if got := c.zoneCounts(t, "StatefulSet", "web"); got != "a:1 b:1 c:1" {
		t.Fatalf("web %s", got)
	}
	terminating := leaving.DeepCopy()
	terminating.DeletionTimestamp = ptr.To(metav1.Now())
	c.pl.podEvents().OnUpdate(leaving, terminating)
	c.wantZoneCounts(t, "StatefulSet", "web", "a:1 b:1 c:0", "terminating pod counted")
	// Its successor must go to c, where the set is thinnest.
	if nodes, _ := c.feasibleNodes(t, owned("w4", "StatefulSet", "web")); fmt.Sprint(nodes) != "[c1]" {
		t.Errorf("successor may go to %v, want [c1]", nodes)
	}
}

func TestPreFilterExtensions(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
	c.bindReplicas("StatefulSet", "web", "a1", "a2", "b1", "c1")
	ctx := context.Background()
	p := owned("w5", "StatefulSet", "web")
	state := framework.NewCycleState()
	if _, st := c.pl.PreFilter(ctx, state, p, nil); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := c.pl.Filter(ctx, state, p, c.infos["a3"]); st.IsSuccess() {
		t.Fatal("a with 2 against 1 accepted a third")
	}
	victim, err := framework.NewPodInfo(owned("w1", "StatefulSet", "web"))
	if err != nil {
		t.Fatal(err)
	}
	what := plugintest.RemoveReopens(t, c.pl, state, p, victim, c.infos["a1"], c.infos["a3"])
	// A nominated replica in b and c raises the minimum: a is open again
	// even with w1 back.
	other, _ := framework.NewPodInfo(owned("x", "StatefulSet", "other"))
	_ = c.pl.PreFilterExtensions().AddPod(ctx, what, p, other, c.infos["b2"])
	_ = c.pl.PreFilterExtensions().AddPod(ctx, what, p, victim, c.infos["a1"])
	if st := c.pl.Filter(ctx, what, p, c.infos["a3"]); st.IsSuccess() {
		t.Error("a pod of another workload changed the counts")
	}
	for _, n := range []string{"b2", "c1"} {
		ni, _ := framework.NewPodInfo(owned("n-"+n, "StatefulSet", "web"))
		_ = c.pl.PreFilterExtensions().AddPod(ctx, what, p, ni, c.infos[n])
	}
	if st := c.pl.Filter(ctx, what, p, c.infos["a3"]); !st.IsSuccess() {
		t.Errorf("with b and c at 2, a (2) still rejected: %v", st)
	}
}
