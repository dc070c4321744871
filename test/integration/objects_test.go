package integration

import (
	"context"
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// Objects made by hand, for the tests that create their workloads with the
// client themselves (manifests_test.go, the real-cluster tests).
// Tests of placement use the test kit instead (kit_test.go).

func zonedNode(name, zone string, cordoned bool) *v1.Node {
	n := node(name, "16", "64Gi", 0)
	n.Labels["topology.kubernetes.io/zone"] = zone
	n.Spec.Unschedulable = cordoned
	return n
}

// replicaTemplate is a pod template for placer, labelled app=<app>, asking
// for cpu.
func replicaTemplate(app, cpu string) v1.PodTemplateSpec {
	return v1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       v1.PodSpec{SchedulerName: "placer", Containers: pause(cpu)},
	}
}

// pause is a pod's one container, c: the pause image, asking for cpu.
func pause(cpu string) []v1.Container {
	return []v1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10",
		Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu)}}}}
}

// createDeploymentPods creates a Deployment, its ReplicaSet and the RS's
// pods with owner references, as the controllers would (none run here).
func createDeploymentPods(t *testing.T, c kubernetes.Interface, name string, replicas int) []string {
	t.Helper()
	ctx := context.Background()
	tmpl := replicaTemplate(name, "500m")
	sel := &metav1.LabelSelector{MatchLabels: tmpl.Labels}
	d, err := c.AppsV1().Deployments("default").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To(int32(replicas)), Selector: sel, Template: tmpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const hash = "5d8f7c"
	rsTmpl := *tmpl.DeepCopy()
	rsTmpl.Labels["pod-template-hash"] = hash
	rs, err := c.AppsV1().ReplicaSets("default").Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-" + hash, Labels: rsTmpl.Labels, OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(replicas)),
			Selector: &metav1.LabelSelector{MatchLabels: rsTmpl.Labels}, Template: rsTmpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range replicas {
		p := &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", rs.Name, i), Namespace: "default", Labels: rsTmpl.Labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}},
			Spec: rsTmpl.Spec,
		}
		createPods(t, c, p)
		names = append(names, p.Name)
	}
	return names
}

// zoneCounts returns replicas per zone among the named pods, with every
// schedulable zone present (0 when empty).
func zoneCounts(t *testing.T, c kubernetes.Interface, placed map[string]string, pods []string, zones []string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, z := range zones {
		out[z] = 0
	}
	for _, p := range pods {
		n, err := c.CoreV1().Nodes().Get(context.Background(), placed[p], metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[n.Labels["topology.kubernetes.io/zone"]]++
	}
	return out
}

func skew(counts map[string]int) int {
	lo, hi := -1, 0
	for _, n := range counts {
		if lo < 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	return hi - lo
}
