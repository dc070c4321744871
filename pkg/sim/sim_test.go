package sim

import (
	"context"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A node is registered with its status, as a kubelet would: an API server
// would drop status given on create.
func TestCreateNodeSetsStatus(t *testing.T) {
	ctx := context.Background()
	b, err := NewBackend(ctx, BackendMemory, "")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: v1.NodeStatus{
		Allocatable: v1.ResourceList{v1.ResourceCPU: resource.MustParse("4")},
		Conditions:  []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}}}}
	if _, err := CreateNode(ctx, b.Client(), n); err != nil {
		t.Fatal(err)
	}
	got, err := b.Client().CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cpu := got.Status.Allocatable[v1.ResourceCPU]; cpu.String() != "4" || len(got.Status.Conditions) != 1 {
		t.Errorf("status %+v", got.Status)
	}
	if _, err := CreateNode(ctx, b.Client(), n); err == nil || !strings.Contains(err.Error(), "creating node n1") {
		t.Errorf("second create: %v", err)
	}
}

// The in-process backends are thrown away whole: nothing to prepare, track
// or reset. A real cluster's backend marks nodes for KWOK and remembers the
// namespaces it created.
func TestBackendCapabilities(t *testing.T) {
	b, err := NewBackend(context.Background(), BackendMemory, "")
	if err != nil {
		t.Fatal(err)
	}
	n := &v1.Node{}
	b.PrepareNode(n)
	b.UsedNamespace("ns", true)
	if used, created := b.Namespaces(); b.Shared() || n.Annotations != nil || used != nil || created != nil || b.Reset() != nil {
		t.Errorf("memory backend: shared %v, annotations %v, namespaces %v %v", b.Shared(), n.Annotations, used, created)
	}
	kb := &kubeconfigBackend{}
	kb.PrepareNode(n)
	kb.UsedNamespace("mine", true)
	kb.UsedNamespace("theirs", false)
	used, created := kb.Namespaces()
	if !kb.Shared() || n.Annotations[KWOKAnnotation] != "fake" || strings.Join(used, ",") != "mine,theirs" || strings.Join(created, ",") != "mine" {
		t.Errorf("kubeconfig backend: annotations %v, used %v, created %v", n.Annotations, used, created)
	}
	if _, err := NewBackend(context.Background(), "cloud", ""); err == nil || !strings.Contains(err.Error(), `--backend "cloud"`) {
		t.Errorf("unknown backend: %v", err)
	}
}
