package result

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestPlacementOf(t *testing.T) {
	zones := map[string]string{"n1": "zone-a"}
	ctrl := func(kind, name string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, Controller: ptr.To(true)}}
	}
	container := []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("250m")}}}}

	rsPod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-5d8f-x7k2p", Namespace: "bench", OwnerReferences: ctrl("ReplicaSet", "web-5d8f"),
		Labels: map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: "5d8f"}},
		Spec: v1.PodSpec{NodeName: "n1", Containers: container}}
	p := PlacementOf(rsPod, zones)
	if p.Workload != "web" || p.OwnerKind != "Deployment" || p.OwnerName != "web" || p.Ordinal != nil || p.Node != "n1" || p.Zone != "zone-a" || !p.Bound() {
		t.Errorf("Deployment pod: %+v", p)
	}
	if q := p.Requests[v1.ResourceCPU]; q.MilliValue() != 250 {
		t.Errorf("requests %v, want cpu 250m", p.Requests)
	}

	ssPod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "db-2", OwnerReferences: ctrl("StatefulSet", "db"),
		Labels: map[string]string{appsv1.PodIndexLabel: "2"}},
		Status: v1.PodStatus{Conditions: []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse,
			Reason: v1.PodReasonUnschedulable, Message: "0/3 nodes are available: 3 Insufficient cpu."}}}}
	p = PlacementOf(ssPod, zones)
	if p.Workload != "db" || p.OwnerKind != "StatefulSet" || p.Ordinal == nil || *p.Ordinal != 2 || p.Bound() || !p.Unschedulable ||
		p.Reason != "0/3 nodes are available: 3 Insufficient cpu." {
		t.Errorf("unschedulable StatefulSet pod: %+v", p)
	}

	// A scheduling error is a reason but not unschedulable.
	bare := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "solo"},
		Status: v1.PodStatus{Conditions: []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse,
			Reason: "SchedulerError", Message: "binding rejected"}}}}
	p = PlacementOf(bare, zones)
	if p.Workload != "solo" || p.OwnerKind != "" || p.Unschedulable || p.Reason != "binding rejected" {
		t.Errorf("bare pod with a scheduling error: %+v", p)
	}
}
