package sim

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/workload"
)

const workloadsFile = `
apiVersion: bench.placer.dev/v1alpha1
kind: Workload
name: sim
seed: 3
cluster:
  zones: 3
  nodeGroups: [{name: cpu, count: 3, capacity: {cpu: "8", memory: 32Gi}}]
workloads:
- name: web
  kind: Deployment
  replicas: 2
  pod: {requests: {cpu: "1"}}
- name: db
  kind: StatefulSet
  replicas: 3
  pod: {requests: {cpu: "1"}}
  volumeClaims: [{name: data, storageClassName: zonal-ssd, size: 1Gi}]
ops:
- op: createWorkloads
`

// newWorkloads is a memory backend with the test file's generator, and
// the pods Workloads reports created.
func newWorkloads(t *testing.T) (*Workloads, *generate.Generator, *[]types.UID) {
	t.Helper()
	f, err := workload.Parse([]byte(workloadsFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := newMemoryBackend(t)
	gen := generate.New(f, "run-1")
	w := NewWorkloads(b, gen, "run-1")
	var created []types.UID
	w.OnPodCreated = func(uid types.UID, _ time.Time, _ bool) { created = append(created, uid) }
	return w, gen, &created
}

// created is the first instance of the named workload, created with its
// pods, and the pods Workloads reports created.
func created(t *testing.T, name string) (*Workloads, *generate.Instance, *[]types.UID) {
	t.Helper()
	w, gen, uids := newWorkloads(t)
	inst := gen.Workloads("default-scheduler", name)[0]
	ctx := context.Background()
	if err := w.CreateOwners(ctx, inst); err != nil {
		t.Fatal(err)
	}
	for _, p := range inst.Pods {
		if _, err := w.CreatePod(ctx, p, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	return w, inst, uids
}

// A Deployment's pods point at its ReplicaSet as stored (an API server
// assigns UIDs of its own; the memory backend keeps the generated ones);
// scaling sets spec.replicas first and removes the newest pods.
func TestWorkloadsDeploymentOwnersAndScale(t *testing.T) {
	w, inst, created := created(t, "web")
	ctx := context.Background()
	c := w.client
	if len(*created) != 2 {
		t.Fatalf("OnPodCreated heard %d pods, want 2", len(*created))
	}
	rs, err := c.AppsV1().ReplicaSets(inst.ReplicaSet.Namespace).Get(ctx, inst.ReplicaSet.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod, err := c.CoreV1().Pods(inst.Pods[0].Namespace).Get(ctx, inst.Pods[0].Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pod.OwnerReferences[0].UID; got != rs.UID {
		t.Errorf("pod's owner UID %s, want the ReplicaSet's %s", got, rs.UID)
	}

	if err := w.Scale(ctx, inst, 4, false); err != nil {
		t.Fatal(err)
	}
	d, err := c.AppsV1().Deployments(inst.Workload.Namespace).Get(ctx, inst.Owner.(*appsv1.Deployment).Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 4 || len(inst.Pods) != 4 || len(*created) != 4 {
		t.Fatalf("after scale to 4: spec %d, instance %d pods, %d created", *d.Spec.Replicas, len(inst.Pods), len(*created))
	}
	newest := inst.Pods[3].Name
	if err := w.Scale(ctx, inst, 1, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Pods(inst.Workload.Namespace).Get(ctx, newest, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("newest pod %s after scale-down to 1: %v, want not found", newest, err)
	}
	if list, _ := c.CoreV1().Pods(inst.Workload.Namespace).List(ctx, metav1.ListOptions{}); len(list.Items) != 1 {
		t.Errorf("%d pods after scale-down to 1", len(list.Items))
	}

	if err := w.Delete(ctx, inst); err != nil {
		t.Fatal(err)
	}
	if list, _ := c.AppsV1().ReplicaSets(inst.Workload.Namespace).List(ctx, metav1.ListOptions{}); len(list.Items) != 0 {
		t.Errorf("%d ReplicaSets left after Delete", len(list.Items))
	}
	if list, _ := c.CoreV1().Pods(inst.Workload.Namespace).List(ctx, metav1.ListOptions{}); len(list.Items) != 0 {
		t.Errorf("%d pods left after Delete", len(list.Items))
	}
}

// A StatefulSet replica comes back under its own name with its own claim,
// as the controller recreates it; its storage class is made for the run.
func TestWorkloadsStatefulSetReplace(t *testing.T) {
	w, inst, created := created(t, "db")
	ctx := context.Background()
	c := w.client
	if _, err := c.StorageV1().StorageClasses().Get(ctx, "zonal-ssd", metav1.GetOptions{}); err != nil {
		t.Fatalf("storage class: %v", err)
	}
	claims, _ := c.CoreV1().PersistentVolumeClaims(inst.Workload.Namespace).List(ctx, metav1.ListOptions{})
	if len(claims.Items) != 3 {
		t.Fatalf("%d claims, want 3", len(claims.Items))
	}
	old := inst.Pods[1]
	before, err := c.CoreV1().Pods(old.Namespace).Get(ctx, old.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	repl, uid, err := w.Replace(ctx, inst, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	if repl.Name != old.Name || uid == before.UID || inst.Pods[1] != repl {
		t.Errorf("replacement %s (uid %s), want %s under a new UID", repl.Name, uid, old.Name)
	}
	if last := (*created)[len(*created)-1]; last != uid {
		t.Errorf("OnPodCreated last heard %s, want the replacement's %s", last, uid)
	}
	claims, _ = c.CoreV1().PersistentVolumeClaims(inst.Workload.Namespace).List(ctx, metav1.ListOptions{})
	if len(claims.Items) != 3 {
		t.Errorf("%d claims after replace, want the same 3", len(claims.Items))
	}
}

// A pod with only a generateName gets a name before it is created, which
// the memory backend would not give it.
func TestCreatePodGeneratesName(t *testing.T) {
	w, _, _ := newWorkloads(t)
	ctx := context.Background()
	if err := w.EnsureNamespace(ctx, "ns"); err != nil {
		t.Fatal(err)
	}
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "pod-", Namespace: "ns"}}
	for range 2 {
		if _, err := w.CreatePod(ctx, p, nil, false); err != nil {
			t.Fatal(err)
		}
	}
	list, err := w.client.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 2 || list.Items[0].Name == list.Items[1].Name || len(list.Items[0].Name) != len("pod-")+5 {
		t.Errorf("pods %v", list.Items)
	}
}
