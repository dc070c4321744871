package sim

import (
	"context"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// newMemoryBackend is a fresh memory backend for one test, closed when the
// test ends; the tests of this package build on it rather than each
// repeating the construction and its error check.
func newMemoryBackend(t *testing.T) Backend {
	t.Helper()
	b, err := NewBackend(context.Background(), BackendMemory, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// A node is registered with its status, as a kubelet would: an API server
// would drop status given on create.
func TestCreateNodeSetsStatus(t *testing.T) {
	ctx := context.Background()
	b := newMemoryBackend(t)
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
	b := newMemoryBackend(t)
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
// affinity, and never preempt: they get a PriorityClass of the run with
// the priority they asked for and PreemptionPolicy Never; preparing twice
// changes nothing more. The in-process backends leave pods as they are.
func TestPrepareForASharedCluster(t *testing.T) {
	ctx := context.Background()
	mem := newMemoryBackend(t)
	plain := v1.PodSpec{SchedulerName: "placer"}
	if err := mem.PreparePod(ctx, &plain); err != nil || plain.Affinity != nil || plain.Tolerations != nil || plain.PriorityClassName != "" {
		t.Errorf("memory backend changed a pod: %+v (%v)", plain, err)
	}

	cluster := fake.NewClientset(&schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000},
		&schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "usual"}, Value: 10, GlobalDefault: true})
	kb := &kubeconfigBackend{runID: "r1", client: cluster}
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
		}}}}, PriorityClassName: "high"}
	for range 2 {
		if err := kb.PreparePod(ctx, &spec); err != nil {
			t.Fatal(err)
		}
	}
	if len(spec.Tolerations) != 1 || !spec.Tolerations[0].ToleratesTaint(&n.Spec.Taints[0]) {
		t.Errorf("tolerations %v", spec.Tolerations)
	}
	for i, term := range spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if len(term.MatchExpressions) != 2 || term.MatchExpressions[1].Key != "bench.placer.dev/run" || term.MatchExpressions[1].Values[0] != "r1" {
			t.Errorf("term %d: %v, want the user's requirement and the run's", i, term.MatchExpressions)
		}
	}
	pc, err := cluster.SchedulingV1().PriorityClasses().Get(ctx, spec.PriorityClassName, metav1.GetOptions{})
	if err != nil || pc.Value != 1000 || pc.PreemptionPolicy == nil || *pc.PreemptionPolicy != v1.PreemptNever ||
		pc.Labels["bench.placer.dev/run"] != "r1" || spec.PreemptionPolicy != nil || spec.Priority != nil {
		t.Errorf("class %q: %+v (%v); want the run's, value 1000, never preempting", spec.PriorityClassName, pc, err)
	}
	bare := v1.PodSpec{}
	if err := kb.PreparePod(ctx, &bare); err != nil {
		t.Fatal(err)
	}
	if bare.PriorityClassName != "r1-10" {
		t.Errorf("a pod without priority gets class %q, want the run's copy of the cluster's default, r1-10", bare.PriorityClassName)
	}
	terms := bare.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 1 {
		t.Errorf("a pod without affinity gets %v", terms)
	}
}
