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

func zonedNode(name, zone string, cordoned bool) *v1.Node {
	n := node(name, "16", "64Gi", 0)
	n.Labels["topology.kubernetes.io/zone"] = zone
	n.Spec.Unschedulable = cordoned
	return n
}

func podTemplate(app string) v1.PodTemplateSpec {
	return v1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec: v1.PodSpec{SchedulerName: "placer", Containers: []v1.Container{{
			Name: "c", Image: "registry.k8s.io/pause:3.10",
			Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m")}},
		}}},
	}
}

// createDeploymentPods creates a Deployment, its ReplicaSet and the RS's
// pods with owner references, as the controllers would (none run here).
func createDeploymentPods(t *testing.T, c kubernetes.Interface, name string, replicas int) []string {
	t.Helper()
	ctx := context.Background()
	tmpl := podTemplate(name)
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

// statefulSetPods creates pods name-<from>..name-<to-1> of a StatefulSet.
func statefulSetPods(t *testing.T, c kubernetes.Interface, ss *appsv1.StatefulSet, from, to int) []string {
	t.Helper()
	var names []string
	for i := from; i < to; i++ {
		p := &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", ss.Name, i), Namespace: "default",
				Labels:          map[string]string{"app": ss.Name, "apps.kubernetes.io/pod-index": fmt.Sprint(i)},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: ss.Name, UID: ss.UID, Controller: ptr.To(true)}}},
			Spec: ss.Spec.Template.Spec,
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

// TestZoneSpreadThroughTheBinary: 3 zones of unequal size and a 4th whose
// nodes are all cordoned; a Deployment of 7 and a StatefulSet scaled 3 -> 5
// -> 4 end with zone skew <= 1 over the three usable zones, and the cordoned
// zone blocks nothing.
func TestZoneSpreadThroughTheBinary(t *testing.T) {
	_, _, c := startPlacer(t,
		zonedNode("a-1", "zone-a", false), zonedNode("a-2", "zone-a", false), zonedNode("a-3", "zone-a", false),
		zonedNode("b-1", "zone-b", false), zonedNode("b-2", "zone-b", false),
		zonedNode("c-1", "zone-c", false),
		zonedNode("d-1", "zone-d", true), zonedNode("d-2", "zone-d", true))
	zones := []string{"zone-a", "zone-b", "zone-c"}

	web := createDeploymentPods(t, c, "web", 7)
	placed := waitBound(t, c, web...)
	webZones := zoneCounts(t, c, placed, web, zones)
	if s := skew(webZones); s > 1 {
		t.Errorf("Deployment web per zone %v: skew %d, want <= 1", webZones, s)
	}

	ss, err := c.AppsV1().StatefulSets("default").Create(context.Background(), &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(int32(3)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template: podTemplate("db")},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db := statefulSetPods(t, c, ss, 0, 3)
	waitBound(t, c, db...)
	// Scale up to 5 as the controller does: spec.replicas first, then the pods.
	ss = scaleStatefulSet(t, c, ss, 5)
	db = append(db, statefulSetPods(t, c, ss, 3, 5)...)
	placed = waitBound(t, c, db...)
	if s := skew(zoneCounts(t, c, placed, db, zones)); s > 1 {
		t.Errorf("StatefulSet db at 5 per zone %v: skew %d", zoneCounts(t, c, placed, db, zones), s)
	}
	// Scale down to 4 (highest ordinal first), then back up to 5: the new
	// db-4 goes where the set is thinnest.
	ss = scaleStatefulSet(t, c, ss, 4)
	if err := c.CoreV1().Pods("default").Delete(context.Background(), "db-4", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, c, "db-4")
	ss = scaleStatefulSet(t, c, ss, 5)
	db = append(db[:4], statefulSetPods(t, c, ss, 4, 5)...)
	placed = waitBound(t, c, db...)
	dbZones := zoneCounts(t, c, placed, db, zones)
	if s := skew(dbZones); s > 1 {
		t.Errorf("StatefulSet db after scale down and up per zone %v: skew %d", dbZones, s)
	}
	for _, p := range append(web, db...) {
		if n := placed[p]; n == "d-1" || n == "d-2" {
			t.Errorf("%s placed on cordoned node %s", p, n)
		}
	}
	t.Logf("web per zone %v, db per zone %v", webZones, dbZones)
}

func scaleStatefulSet(t *testing.T, c kubernetes.Interface, ss *appsv1.StatefulSet, replicas int) *appsv1.StatefulSet {
	t.Helper()
	ss = ss.DeepCopy()
	ss.Spec.Replicas = ptr.To(int32(replicas))
	out, err := c.AppsV1().StatefulSets("default").Update(context.Background(), ss, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
