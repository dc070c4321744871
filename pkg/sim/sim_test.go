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

// On a real cluster the run's nodes are tainted for the run, and its pods
// tolerate that taint, require the run's nodes in every term of their node
// affinity, and never preempt; preparing twice changes nothing more. The
// in-process backends leave pods as they are.
func TestPrepareForASharedCluster(t *testing.T) {
	mem, _ := NewBackend(context.Background(), BackendMemory, "")
	plain := v1.PodSpec{SchedulerName: "placer"}
	mem.PreparePod(&plain)
	if plain.Affinity != nil || plain.Tolerations != nil || plain.PreemptionPolicy != nil {
		t.Errorf("memory backend changed a pod: %+v", plain)
	}

	kb := &kubeconfigBackend{runID: "r1"}
	n := &v1.Node{}
	kb.PrepareNode(n)
	kb.PrepareNode(n)
	if len(n.Spec.Taints) != 1 || n.Spec.Taints[0] != (v1.Taint{Key: "bench.placer.dev/run", Value: "r1", Effect: v1.TaintEffectNoSchedule}) ||
		n.Labels["bench.placer.dev/run"] != "r1" {
		t.Errorf("node taints %v, labels %v", n.Spec.Taints, n.Labels)
	}
	spec := v1.PodSpec{Affinity: &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
		NodeSelectorTerms: []v1.NodeSelectorTerm{
			{MatchExpressions: []v1.NodeSelectorRequirement{{Key: "gpu", Operator: v1.NodeSelectorOpExists}}},
			{MatchExpressions: []v1.NodeSelectorRequirement{{Key: "cpu-only", Operator: v1.NodeSelectorOpExists}}},
		}}}}}
	kb.PreparePod(&spec)
	kb.PreparePod(&spec)
	if len(spec.Tolerations) != 1 || !spec.Tolerations[0].ToleratesTaint(&n.Spec.Taints[0]) {
		t.Errorf("tolerations %v", spec.Tolerations)
	}
	for i, term := range spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if len(term.MatchExpressions) != 2 || term.MatchExpressions[1].Key != "bench.placer.dev/run" || term.MatchExpressions[1].Values[0] != "r1" {
			t.Errorf("term %d: %v, want the user's requirement and the run's", i, term.MatchExpressions)
		}
	}
	if spec.PreemptionPolicy == nil || *spec.PreemptionPolicy != v1.PreemptNever {
		t.Errorf("preemption policy %v, want Never", spec.PreemptionPolicy)
	}
	bare := v1.PodSpec{}
	kb.PreparePod(&bare)
	terms := bare.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 1 {
		t.Errorf("a pod without affinity gets %v", terms)
	}
}
