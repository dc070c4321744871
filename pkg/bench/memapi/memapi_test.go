package memapi

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/placer-dev/placer/pkg/inprocscheduler"
)

func pod(name string, labels map[string]string) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: labels},
		Spec: v1.PodSpec{SchedulerName: "default-scheduler", Containers: []v1.Container{{Name: "c", Image: "pause"}}}}
}

func TestCreateGetUpdateDelete(t *testing.T) {
	ctx := context.Background()
	cs := NewClientset(NewStore())
	pods := cs.CoreV1().Pods("ns")
	created, err := pods.Create(ctx, pod("a", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if created.UID == "" || created.ResourceVersion == "" || created.CreationTimestamp.IsZero() {
		t.Errorf("created without server fields: %+v", created.ObjectMeta)
	}
	if _, err := pods.Create(ctx, pod("a", nil), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Errorf("second create: %v", err)
	}
	// Writers cannot change identity, and what Get returns is a copy.
	created.Labels = map[string]string{"x": "y"}
	created.UID = "forged"
	updated, err := pods.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if updated.UID == "forged" || updated.ResourceVersion == created.ResourceVersion || updated.Labels["x"] != "y" {
		t.Errorf("update: %+v", updated.ObjectMeta)
	}
	got, _ := pods.Get(ctx, "a", metav1.GetOptions{})
	got.Labels["x"] = "changed"
	if again, _ := pods.Get(ctx, "a", metav1.GetOptions{}); again.Labels["x"] != "y" {
		t.Error("Get returned the stored object, not a copy")
	}
	if err := pods.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, "a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after delete: %v", err)
	}
}

func TestWatchNeverOverflowsAndKeepsOrder(t *testing.T) {
	ctx := context.Background()
	cs := NewClientset(NewStore())
	w, err := cs.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// The stock fake panics past 100 unread events; nobody reads these until all are written.
	const n = 20000
	for i := range n {
		if _, err := cs.CoreV1().Pods("ns").Create(ctx, pod(fmt.Sprintf("p-%05d", i), nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		ev := <-w.ResultChan()
		if want := fmt.Sprintf("p-%05d", i); ev.Type != watch.Added || ev.Object.(*v1.Pod).Name != want {
			t.Fatalf("event %d: %s %s, want ADDED %s", i, ev.Type, ev.Object.(*v1.Pod).Name, want)
		}
	}
}

func TestWatchResumesFromResourceVersion(t *testing.T) {
	ctx := context.Background()
	store := NewStore()
	cs := NewClientset(store)
	for i := range 3 {
		cs.CoreV1().Pods("ns").Create(ctx, pod(fmt.Sprint("before-", i), nil), metav1.CreateOptions{})
	}
	list, err := cs.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 3 || list.ResourceVersion != "3" {
		t.Fatalf("list: %v items, rv %q, %v", len(list.Items), list.ResourceVersion, err)
	}
	// Created between the List and the Watch, as an informer can see it.
	cs.CoreV1().Pods("ns").Create(ctx, pod("between", nil), metav1.CreateOptions{})
	w, err := cs.CoreV1().Pods("ns").Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if ev := <-w.ResultChan(); ev.Object.(*v1.Pod).Name != "between" {
		t.Errorf("first event after rv 3: %s", ev.Object.(*v1.Pod).Name)
	}
	// A version older than the history kept: 410 Gone, and the informer relists.
	store.history = store.history[2:]
	if _, err := cs.CoreV1().Pods("ns").Watch(ctx, metav1.ListOptions{ResourceVersion: "1"}); !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Errorf("watch from an expired version: %v", err)
	}
}

func TestWatchFiltersNamespaceAndLabels(t *testing.T) {
	ctx := context.Background()
	cs := NewClientset(NewStore())
	w, err := cs.CoreV1().Pods("ns").Watch(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	cs.CoreV1().Pods("ns").Create(ctx, pod("db", map[string]string{"app": "db"}), metav1.CreateOptions{})
	other := pod("web-elsewhere", map[string]string{"app": "web"})
	other.Namespace = "other"
	cs.CoreV1().Pods("other").Create(ctx, other, metav1.CreateOptions{})
	cs.CoreV1().Pods("ns").Create(ctx, pod("web", map[string]string{"app": "web"}), metav1.CreateOptions{})
	if ev := <-w.ResultChan(); ev.Object.(*v1.Pod).Name != "web" {
		t.Errorf("got %s", ev.Object.(*v1.Pod).Name)
	}
}

func TestBinding(t *testing.T) {
	ctx := context.Background()
	cs := NewClientset(NewStore())
	p, _ := cs.CoreV1().Pods("ns").Create(ctx, pod("a", nil), metav1.CreateOptions{})
	b := &v1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "ns", UID: p.UID}, Target: v1.ObjectReference{Kind: "Node", Name: "n1"}}
	if err := cs.CoreV1().Pods("ns").Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _ := cs.CoreV1().Pods("ns").Get(ctx, "a", metav1.GetOptions{})
	if got.Spec.NodeName != "n1" || len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Type != v1.PodScheduled {
		t.Errorf("bound pod: node %q conditions %v", got.Spec.NodeName, got.Status.Conditions)
	}
	if err := cs.CoreV1().Pods("ns").Bind(ctx, b, metav1.CreateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("second bind: %v", err)
	}
}

// TestSchedulerRunsAgainstIt is the point of the package: the upstream
// default profile schedules pods through this clientset.
func TestSchedulerRunsAgainstIt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := NewClientset(NewStore())
	for i := range 3 {
		alloc := v1.ResourceList{v1.ResourceCPU: resource.MustParse("4"), v1.ResourceMemory: resource.MustParse("8Gi"), v1.ResourcePods: resource.MustParse("110")}
		n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("n", i), Labels: map[string]string{"kubernetes.io/hostname": fmt.Sprint("n", i)}},
			Status: v1.NodeStatus{Allocatable: alloc, Capacity: alloc, Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}}}}
		if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := inprocscheduler.DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	sched, err := inprocscheduler.Start(ctx, cs, inprocscheduler.Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer sched.Stop()
	for i := range 30 {
		p := pod(fmt.Sprint("p-", i), nil)
		p.Spec.Containers[0].Resources.Requests = v1.ResourceList{v1.ResourceCPU: resource.MustParse("300m")}
		if _, err := cs.CoreV1().Pods("ns").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var bound int
	err = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		bound = 0
		for _, p := range list.Items {
			if p.Spec.NodeName != "" {
				bound++
			}
		}
		return bound == 30, nil
	})
	if err != nil {
		t.Fatalf("%d of 30 pods bound: %v", bound, err)
	}
}

// A bound pod deleted with a grace period terminates first and is removed
// after KubeletStopDelay; unbound pods and grace period zero go at once.
func TestPodDeletionIsGracefulWhenBound(t *testing.T) {
	ctx := context.Background()
	cs := NewClientset(NewStore())
	pods := cs.CoreV1().Pods("ns")
	for _, name := range []string{"bound", "unbound", "now"} {
		p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}}
		if name != "unbound" {
			p.Spec.NodeName = "n1"
		}
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	w, err := pods.Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if err := pods.Delete(ctx, "bound", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Delete(ctx, "unbound", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Delete(ctx, "now", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	got, err := pods.Get(ctx, "bound", metav1.GetOptions{})
	if err != nil || got.DeletionTimestamp == nil || *got.DeletionGracePeriodSeconds != v1.DefaultTerminationGracePeriodSeconds {
		t.Fatalf("bound pod right after delete: %v %+v", err, got)
	}
	for _, name := range []string{"unbound", "now"} {
		if _, err := pods.Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s after delete: %v", name, err)
		}
	}
	// Events in order: bound marked, the other two removed, bound removed.
	var seen []string
	for len(seen) < 4 {
		ev := <-w.ResultChan()
		seen = append(seen, string(ev.Type)+" "+ev.Object.(*v1.Pod).Name)
	}
	want := []string{"MODIFIED bound", "DELETED unbound", "DELETED now", "DELETED bound"}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", seen, want)
	}
}
