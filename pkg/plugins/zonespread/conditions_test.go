package zonespread

import (
	"context"
	"fmt"
	"testing"

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

func TestOwnerRemovedOrChanged(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
	p := owned("w1", "StatefulSet", "web")
	p.Spec.NodeName = "a1"
	c.pl.podEvents().OnAdd(p, false)
	if got := c.zoneCounts(t, "StatefulSet", "web"); got != "a:1 b:0 c:0" {
		t.Fatalf("web %s", got)
	}
	// Released by its controller (quarantined by relabelling): not a replica.
	orphan := p.DeepCopy()
	orphan.OwnerReferences = nil
	c.pl.podEvents().OnUpdate(p, orphan)
	if got := c.zoneCounts(t, "StatefulSet", "web"); got != "a:0 b:0 c:0" {
		t.Errorf("orphan still counted: web %s", got)
	}
	// Adopted by another workload: counted there only.
	adopted := orphan.DeepCopy()
	adopted.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "api", Controller: ptr.To(true)}}
	c.pl.podEvents().OnUpdate(orphan, adopted)
	if got := c.zoneCounts(t, "ReplicaSet", "api"); got != "a:1 b:0 c:0" {
		t.Errorf("adopted pod: api %s", got)
	}
	// Adopted by a kind ZoneSpread does not spread (a DaemonSet): gone.
	daemon := adopted.DeepCopy()
	daemon.OwnerReferences[0].Kind = "DaemonSet"
	c.pl.podEvents().OnUpdate(adopted, daemon)
	if got := c.zoneCounts(t, "ReplicaSet", "api"); got != "a:0 b:0 c:0" {
		t.Errorf("pod now of a DaemonSet still counted: api %s", got)
	}
}

// Terminating replicas do not count, as in PodTopologySpread: in a rolling
// update the new pods fill the zones the old ones are leaving.
func TestTerminatingReplicasDoNotCount(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
	c.bindReplicas("StatefulSet", "web", "a1", "b1")
	leaving := owned("w3", "StatefulSet", "web")
	leaving.Spec.NodeName = "c1"
	c.pl.podEvents().OnAdd(leaving, false)
	if got := c.zoneCounts(t, "StatefulSet", "web"); got != "a:1 b:1 c:1" {
		t.Fatalf("web %s", got)
	}
	terminating := leaving.DeepCopy()
	terminating.DeletionTimestamp = ptr.To(metav1.Now())
	c.pl.podEvents().OnUpdate(leaving, terminating)
	if got := c.zoneCounts(t, "StatefulSet", "web"); got != "a:1 b:1 c:0" {
		t.Errorf("terminating pod counted: web %s", got)
	}
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
