package integration

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// TestStatefulSetParallelOnLoadedCluster: two sets with Parallel pod
// management, so every replica is pending at once and the scheduler places
// them back to back, each cycle seeing the last one's replica only through
// Reserve; on nodes already partly taken. Both sets end quorum-safe.
func TestStatefulSetParallelOnLoadedCluster(t *testing.T) {
	c := startRealCluster(t, 3, 3, func(c *realCluster) {
		for _, n := range []string{"zone-a-node-0", "zone-a-node-1", "zone-b-node-0", "zone-c-node-2"} {
			c.load(t, n, "6")
		}
	})
	sets := map[string]int{"kafka": 7, "zk": 5}
	for name, r := range sets {
		c.createParallelSet(t, name, r, "1")
	}
	for name, r := range sets {
		pods := c.waitApp(t, name, r)
		checkQuorum(t, name, pods)
		t.Logf("%s per zone %v", name, zonesOf(pods))
	}
}

// TestDeploymentRollingUpdateThroughTheBinary: a Deployment of 6 rolled to a
// new template by the Deployment controller, old and new ReplicaSets side
// by side while the old one's pods are deleted wherever the ReplicaSet
// controller picks. At the end the new ReplicaSet, all that is left, is
// within one replica between zones.
func TestDeploymentRollingUpdateThroughTheBinary(t *testing.T) {
	c := startRealCluster(t, 3, 2, nil)
	ctx := context.Background()
	tmpl := replicaTemplate("web", "500m")
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To(int32(6)), Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}, Template: tmpl,
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxSurge: ptr.To(intstr.FromInt32(2)), MaxUnavailable: ptr.To(intstr.FromInt32(1))}}}}
	if _, err := c.client.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := c.waitApp(t, "web", 6)
	t.Logf("before the update, per zone %v", zonesOf(before))
	// Three rollouts in a row: each a new ReplicaSet replacing the last.
	for round := 1; round <= 3; round++ {
		patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"rollout":"%d"}}}}}`, round)
		if _, err := c.client.AppsV1().Deployments("default").Patch(ctx, "web", types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		pods := c.waitRolledOut(t, "web", fmt.Sprint(round))
		zones := zonesOf(pods)
		lo, hi := len(pods), 0
		for _, z := range []string{"zone-a", "zone-b", "zone-c"} {
			lo, hi = min(lo, zones[z]), max(hi, zones[z])
		}
		if hi-lo > 1 {
			t.Errorf("rollout %d: the new ReplicaSet per zone %v, skew %d", round, zones, hi-lo)
		}
		t.Logf("rollout %d: per zone %v", round, zones)
	}
}

// waitRolledOut waits until every pod of app carries the rollout annotation
// and none of another template is left, terminating or not, and returns them.
func (c *realCluster) waitRolledOut(t *testing.T, app, rollout string) map[string]v1.Pod {
	t.Helper()
	var out map[string]v1.Pod
	c.pollApp(t, app, fmt.Sprintf("rollout %s of %s", rollout, app), func(pods []v1.Pod) (string, bool) {
		out = map[string]v1.Pod{}
		old, pending := 0, 0
		for _, p := range pods {
			if p.Annotations["rollout"] != rollout {
				old++
				continue
			}
			if p.DeletionTimestamp != nil {
				continue
			}
			out[p.Name] = p
			if p.Spec.NodeName == "" {
				pending++
			}
		}
		return fmt.Sprintf("%d new (%d pending), %d old", len(out), pending, old), old == 0 && pending == 0 && len(out) == 6
	})
	return out
}

// TestReplicaOwnerRemovedThroughTheBinary: a Deployment of 3, one per zone.
// One replica is quarantined the way users do it, by removing the label its
// ReplicaSet selects on: the ReplicaSet releases it (its owner reference is
// removed) and makes a replacement. The quarantined pod still runs, but is
// no replica: the replacement goes to the zone it left, where the
// Deployment has none.
func TestReplicaOwnerRemovedThroughTheBinary(t *testing.T) {
	c := startRealCluster(t, 3, 2, nil)
	ctx := context.Background()
	tmpl := replicaTemplate("api", "500m")
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "default"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To(int32(3)), Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}, Template: tmpl}}
	if _, err := c.client.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Three times over, so that a replacement landing in the right zone by
	// chance (a third of the time, if the orphan still counted) does not pass.
	for round := range 3 {
		pods := c.waitApp(t, "api", 3)
		var victim v1.Pod
		for _, p := range pods {
			if nodeZone(p.Spec.NodeName) == "zone-a" {
				victim = p
			}
		}
		if victim.Name == "" {
			t.Fatalf("round %d: no replica in zone-a: %v", round, zonesOf(pods))
		}
		patch := `[{"op":"remove","path":"/metadata/labels/app"}]`
		if _, err := c.client.CoreV1().Pods("default").Patch(ctx, victim.Name, types.JSONPatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		// The ReplicaSet releases the pod: its controller reference goes.
		err := poll(ctx, func(ctx context.Context) (bool, error) {
			p, err := c.client.CoreV1().Pods("default").Get(ctx, victim.Name, metav1.GetOptions{})
			return err == nil && metav1.GetControllerOf(p) == nil, nil
		})
		if err != nil {
			t.Fatalf("round %d: %s kept its owner reference", round, victim.Name)
		}
		after := c.waitApp(t, "api", 3)
		for name, p := range after {
			if _, was := pods[name]; !was && nodeZone(p.Spec.NodeName) != "zone-a" {
				t.Errorf("round %d: replacement %s went to %s; zone-a has no replica now (per zone %v)",
					round, name, nodeZone(p.Spec.NodeName), zonesOf(after))
			}
		}
	}
}
