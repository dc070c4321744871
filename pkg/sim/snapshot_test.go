package sim

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/snapshot"
)

// A snapshot loads as it was: the bound pod on its node, not the run's;
// the pending pod again for the run's scheduler, measured; owner and claim
// references following the UIDs the backend gave the owners and claims.
func TestLoadSnapshot(t *testing.T) {
	ctx := context.Background()
	b := newMemoryBackend(t)
	w := NewWorkloads(b, nil, "run-1")
	var measured []types.UID
	w.OnPodCreated = func(uid types.UID, _ time.Time, m bool) {
		if m {
			measured = append(measured, uid)
		}
	}
	ctrl := func(kind, name string, uid types.UID) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: ptr.To(true)}}
	}
	meta := func(name string, uid types.UID, owners []metav1.OwnerReference) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: "app", UID: uid, ResourceVersion: "42", OwnerReferences: owners}
	}
	s := &snapshot.Snapshot{
		Nodes:        []v1.Node{{ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "live-n1", ResourceVersion: "7"}}},
		Deployments:  []appsv1.Deployment{{ObjectMeta: meta("web", "live-d", nil)}},
		ReplicaSets:  []appsv1.ReplicaSet{{ObjectMeta: meta("web-abc", "live-rs", ctrl("Deployment", "web", "live-d"))}},
		StatefulSets: []appsv1.StatefulSet{{ObjectMeta: meta("db", "live-ss", nil)}},
		Claims: []v1.PersistentVolumeClaim{{ObjectMeta: meta("data-db-0", "live-pvc", nil),
			Spec: v1.PersistentVolumeClaimSpec{VolumeName: "pv-1"}, Status: v1.PersistentVolumeClaimStatus{Phase: v1.ClaimBound}}},
		Volumes: []v1.PersistentVolume{{ObjectMeta: metav1.ObjectMeta{Name: "pv-1", UID: "live-pv"},
			Spec:   v1.PersistentVolumeSpec{ClaimRef: &v1.ObjectReference{Namespace: "app", Name: "data-db-0", UID: "live-pvc", ResourceVersion: "9"}},
			Status: v1.PersistentVolumeStatus{Phase: v1.VolumeBound}}},
		Pods: []v1.Pod{
			{ObjectMeta: meta("web-abc-1", "live-p1", ctrl("ReplicaSet", "web-abc", "live-rs")),
				Spec: v1.PodSpec{NodeName: "n1", SchedulerName: "default-scheduler"}, Status: v1.PodStatus{Phase: v1.PodRunning}},
			{ObjectMeta: meta("db-0", "live-p2", ctrl("StatefulSet", "db", "live-ss")),
				Spec: v1.PodSpec{SchedulerName: "default-scheduler"}, Status: v1.PodStatus{Phase: v1.PodPending, NominatedNodeName: "n1"}},
			{ObjectMeta: meta("done", "live-p3", nil), Spec: v1.PodSpec{NodeName: "n1"}, Status: v1.PodStatus{Phase: v1.PodSucceeded}},
		},
	}
	loaded, err := w.LoadSnapshot(ctx, s, "placer")
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded.Nodes) != 1 || len(loaded.Bound) != 1 || len(loaded.Pending) != 1 {
		t.Fatalf("loaded %d nodes, %d bound, %d pending; want 1 each (the finished pod left out)", len(loaded.Nodes), len(loaded.Bound), len(loaded.Pending))
	}
	if len(measured) != 0 {
		t.Fatalf("pods created before the caller asked: %v", measured)
	}
	if _, err := w.CreatePod(ctx, loaded.Pending[0], nil, true); err != nil {
		t.Fatal(err)
	}
	c := b.Client()
	rs, _ := c.AppsV1().ReplicaSets("app").Get(ctx, "web-abc", metav1.GetOptions{})
	d, _ := c.AppsV1().Deployments("app").Get(ctx, "web", metav1.GetOptions{})
	ss, _ := c.AppsV1().StatefulSets("app").Get(ctx, "db", metav1.GetOptions{})
	if rs.UID == "live-rs" || rs.OwnerReferences[0].UID != d.UID {
		t.Errorf("ReplicaSet %s owned by %s, want a new UID owned by the Deployment's %s", rs.UID, rs.OwnerReferences[0].UID, d.UID)
	}
	bound, _ := c.CoreV1().Pods("app").Get(ctx, "web-abc-1", metav1.GetOptions{})
	if bound.Spec.NodeName != "n1" || bound.Status.Phase != v1.PodRunning || bound.OwnerReferences[0].UID != rs.UID ||
		bound.Labels[generate.RunLabel] != "" || bound.Spec.SchedulerName != "default-scheduler" {
		t.Errorf("bound pod %+v", bound)
	}
	pending, _ := c.CoreV1().Pods("app").Get(ctx, "db-0", metav1.GetOptions{})
	if pending.Spec.NodeName != "" || pending.Status.NominatedNodeName != "" || pending.Spec.SchedulerName != "placer" ||
		pending.Labels[generate.RunLabel] != "run-1" || pending.OwnerReferences[0].UID != ss.UID {
		t.Errorf("pending pod %+v", pending)
	}
	if len(measured) != 1 || measured[0] != pending.UID {
		t.Errorf("measured %v, want only the pending pod %s", measured, pending.UID)
	}
	pvc, _ := c.CoreV1().PersistentVolumeClaims("app").Get(ctx, "data-db-0", metav1.GetOptions{})
	pv, _ := c.CoreV1().PersistentVolumes().Get(ctx, "pv-1", metav1.GetOptions{})
	if pv.Spec.ClaimRef.UID != pvc.UID || pvc.UID == "live-pvc" || pv.Status.Phase != v1.VolumeBound || pvc.Status.Phase != v1.ClaimBound {
		t.Errorf("volume %+v, claim %+v", pv, pvc)
	}
}
