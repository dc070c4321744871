package integration

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/pkg/controlplane"
)

func createStatefulSet(t *testing.T, c kubernetes.Interface, name string, replicas int) *appsv1.StatefulSet {
	t.Helper()
	ss, err := c.AppsV1().StatefulSets("default").Create(context.Background(), &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(int32(replicas)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}, Template: podTemplate(name)},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// statefulSetOnlyConfig is a profile in which StatefulSetAware is the only
// topology plugin, so what the test sees is its doing, not ZoneSpread's.
const statefulSetOnlyConfig = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: false}
profiles:
- schedulerName: placer
  plugins:
    multiPoint: {enabled: [{name: StatefulSetAware, weight: 3}]}
`

// TestStatefulSetQuorumThroughTheBinary: StatefulSets of 3 and 5 replicas
// over 3 zones, with the shipped profile and with StatefulSetAware alone.
// Whichever single zone is lost, every set keeps a quorum; a deleted replica
// comes back to its zone; the placements show on /metrics.
func TestStatefulSetQuorumThroughTheBinary(t *testing.T) {
	t.Run("shipped profile", func(t *testing.T) { testStatefulSetQuorum(t, "") })
	t.Run("StatefulSetAware alone", func(t *testing.T) { testStatefulSetQuorum(t, statefulSetOnlyConfig) })
}

func testStatefulSetQuorum(t *testing.T, config string) {
	nodes := []*v1.Node{
		zonedNode("a-1", "zone-a", false), zonedNode("a-2", "zone-a", false), zonedNode("a-3", "zone-a", false),
		zonedNode("b-1", "zone-b", false), zonedNode("b-2", "zone-b", false), zonedNode("b-3", "zone-b", false),
		zonedNode("c-1", "zone-c", false), zonedNode("c-2", "zone-c", false), zonedNode("c-3", "zone-c", false)}
	var cp *controlplane.ControlPlane
	var proc *schedproc.Process
	var c kubernetes.Interface
	if config == "" {
		cp, proc, c = startPlacer(t, nodes...)
	} else {
		cp, proc, c = startWithConfig(t, config, nodes...)
	}
	zones := []string{"zone-a", "zone-b", "zone-c"}
	sets := map[string]int{"etcd": 3, "pg": 5}
	podsOf := map[string][]string{}
	for name, r := range sets {
		podsOf[name] = statefulSetPods(t, c, createStatefulSet(t, c, name, r), 0, r)
	}
	var all []string
	for _, p := range podsOf {
		all = append(all, p...)
	}
	placed := waitBound(t, c, all...)

	for _, lost := range zones {
		for name, r := range sets {
			counts := zoneCounts(t, c, placed, podsOf[name], zones)
			if survivors, q := r-counts[lost], r/2+1; survivors < q {
				t.Errorf("losing %s leaves %s with %d of %d replicas, below quorum %d (per zone %v)", lost, name, survivors, r, q, counts)
			}
		}
	}
	// No node holds more than R-q replicas of a set, and each primary (ordinal 0) has its node alone.
	for name, r := range sets {
		perNode := map[string]int{}
		for _, p := range podsOf[name] {
			perNode[placed[p]]++
		}
		for n, k := range perNode {
			if k > r-(r/2+1) {
				t.Errorf("%s: node %s holds %d replicas", name, n, k)
			}
		}
		if perNode[placed[name+"-0"]] != 1 {
			t.Errorf("%s: primary shares node %s", name, placed[name+"-0"])
		}
	}

	// pg-3 is deleted and recreated by its controller: it returns to its zone.
	zoneOfPod := func(pod string, placed map[string]string) string {
		n, err := c.CoreV1().Nodes().Get(context.Background(), placed[pod], metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return n.Labels["topology.kubernetes.io/zone"]
	}
	before := zoneOfPod("pg-3", placed)
	if err := c.CoreV1().Pods("default").Delete(context.Background(), "pg-3", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, c, "pg-3")
	ss, err := c.AppsV1().StatefulSets("default").Get(context.Background(), "pg", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	statefulSetPods(t, c, ss, 3, 4)
	if after := zoneOfPod("pg-3", waitBound(t, c, "pg-3")); after != before {
		t.Errorf("recreated pg-3 went to %s, was in %s", after, before)
	}

	body, code, err := proc.Get(cp.Config, "/metrics")
	if err != nil || code != 200 {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	if !strings.Contains(string(body), `placer_statefulset_placements_total{rule="ordinal_zone"}`) {
		t.Errorf("/metrics lacks placer_statefulset_placements_total by rule")
	}
	// In the shipped profile ZoneSpread's Filter runs first and may reject a
	// zone before this plugin sees it; alone, the zone guard does that work.
	wantRejections := `placer_statefulset_quorum_guard_rejections_total{reason="`
	if config != "" {
		wantRejections += `zone"}`
	}
	if !strings.Contains(string(body), wantRejections) {
		var lines []string
		for _, l := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(l, "placer_") {
				lines = append(lines, l)
			}
		}
		t.Errorf("/metrics lacks quorum-guard rejections by reason; placer lines:\n%s", strings.Join(lines, "\n"))
	}
}
