package resourceaware

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/placer-dev/placer/pkg/gpushare"
	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
)

func hintPod(name, node, cpu, gpu string) *v1.Pod {
	req := v1.ResourceList{}
	if cpu != "" {
		req[v1.ResourceCPU] = resource.MustParse(cpu)
	}
	if gpu != "" {
		req["nvidia.com/gpu"] = resource.MustParse(gpu)
	}
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: v1.PodSpec{NodeName: node, Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: req}}}}}
}

func hintNode(cpu, gpu string) *v1.Node {
	alloc := v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu)}
	if gpu != "" {
		alloc["nvidia.com/gpu"] = resource.MustParse(gpu)
	}
	return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Status: v1.NodeStatus{Allocatable: alloc}}
}

func TestQueueingHints(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	pl := plugin(t, guarded("cpu", 90))
	pending := hintPod("p", "", "2", "")
	for _, tc := range []struct {
		name           string
		pod            *v1.Pod
		oldObj, newObj any
		node           bool
		want           fwk.QueueingHint
	}{
		{"node added with cpu", pending, nil, hintNode("4", ""), true, fwk.Queue},
		{"node given more cpu", pending, hintNode("4", ""), hintNode("8", ""), true, fwk.Queue},
		{"node given less cpu", pending, hintNode("8", ""), hintNode("4", ""), true, fwk.QueueSkip},
		{"node given GPUs, pod asks for cpu", pending, hintNode("4", ""), hintNode("4", "2"), true, fwk.QueueSkip},
		{"node added, pod asks for no guarded resource", hintPod("p", "", "", "1"), nil, hintNode("4", "1"), true, fwk.QueueSkip},
		{"assigned pod with cpu deleted", pending, hintPod("q", "n", "1", ""), nil, false, fwk.Queue},
		{"assigned pod with GPUs only deleted", pending, hintPod("q", "n", "", "1"), nil, false, fwk.QueueSkip},
		{"unassigned pod deleted", pending, hintPod("q", "", "1", ""), nil, false, fwk.QueueSkip},
		{"assigned pod scaled down in cpu", pending, hintPod("q", "n", "2", ""), hintPod("q", "n", "1", ""), false, fwk.Queue},
		{"assigned pod scaled down in GPUs", pending, hintPod("q", "n", "1", "2"), hintPod("q", "n", "1", "1"), false, fwk.QueueSkip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events, err := pl.EventsToRegister(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			res := fwk.Pod
			if tc.node {
				res = fwk.Node
			}
			var fn fwk.QueueingHintFn
			for _, e := range events {
				if e.Event.Resource == res {
					fn = e.QueueingHintFn
				}
			}
			if fn == nil {
				t.Fatalf("no hint for %s events", res)
			}
			got, err := fn(logger, tc.pod, tc.oldObj, tc.newObj)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("hint %v, want %v", got, tc.want)
			}
		})
	}
}

// labelled is node with its GPU model label set to model.
func labelled(node *v1.Node, model string) *v1.Node {
	node.Labels = map[string]string{gpushare.ModelLabel: model}
	return node
}

// A pod rejected for GPU devices or models (no ceilings configured) is
// requeued by what can give it a device: a GPU pod leaving a node, a node
// gaining GPUs, a node's model label turning to one it accepts.
func TestQueueingHintsForGPUDevices(t *testing.T) {
	args, err := DefaultArgs()
	if err != nil {
		t.Fatal(err)
	}
	pl, err := newWithArgs(args, nil)
	if err != nil {
		t.Fatal(err)
	}
	share := annotated(hintPod("p", "", "", ""), gpushare.ShareAnnotation, "300")
	whole := hintPod("p", "", "", "2")
	modelOnly := annotated(hintPod("p", "", "1", ""), gpushare.ModelsAnnotation, "A100")
	shareOfModel := annotated(hintPod("p", "", "", ""), gpushare.ShareAnnotation, "300", gpushare.ModelsAnnotation, "A100|H100")
	cpuOnly := hintPod("p", "", "1", "")
	boundShare := annotated(hintPod("q", "n", "1", ""), gpushare.ShareAnnotation, "500", gpushare.DeviceAnnotation, "0")

	for _, pending := range []struct {
		name  string
		pod   *v1.Pod
		cases []plugintest.Hint
	}{
		{"share", share, []plugintest.Hint{
			{Name: "assigned share deleted", Res: fwk.Pod, Old: boundShare, Want: fwk.Queue},
			{Name: "assigned whole-GPU pod deleted", Res: fwk.Pod, Old: hintPod("q", "n", "", "1"), Want: fwk.Queue},
			{Name: "assigned cpu pod deleted", Res: fwk.Pod, Old: hintPod("q", "n", "1", ""), Want: fwk.QueueSkip},
			{Name: "unassigned share deleted", Res: fwk.Pod, Old: annotated(hintPod("q", "", "", ""), gpushare.ShareAnnotation, "500"), Want: fwk.QueueSkip},
			{Name: "node added with GPUs", Res: fwk.Node, New: hintNode("4", "2"), Want: fwk.Queue},
			{Name: "node added without GPUs", Res: fwk.Node, New: hintNode("4", ""), Want: fwk.QueueSkip},
			{Name: "node given GPUs", Res: fwk.Node, Old: hintNode("4", "2"), New: hintNode("4", "4"), Want: fwk.Queue},
			{Name: "node given fewer GPUs", Res: fwk.Node, Old: hintNode("4", "4"), New: hintNode("4", "2"), Want: fwk.QueueSkip},
			{Name: "node's model label changed, pod takes any", Res: fwk.Node,
				Old: labelled(hintNode("4", "2"), "T4"), New: labelled(hintNode("4", "2"), "A100"), Want: fwk.QueueSkip},
		}},
		{"whole GPUs", whole, []plugintest.Hint{
			{Name: "assigned share deleted", Res: fwk.Pod, Old: boundShare, Want: fwk.Queue},
			{Name: "node given GPUs", Res: fwk.Node, Old: hintNode("4", "2"), New: hintNode("4", "4"), Want: fwk.Queue},
		}},
		{"share of a model", shareOfModel, []plugintest.Hint{
			{Name: "label turned to an accepted model", Res: fwk.Node,
				Old: labelled(hintNode("4", "2"), "T4"), New: labelled(hintNode("4", "2"), "H100"), Want: fwk.Queue},
			{Name: "label given to an unlabelled node", Res: fwk.Node,
				Old: hintNode("4", "2"), New: labelled(hintNode("4", "2"), "A100"), Want: fwk.Queue},
			{Name: "label turned to another model it does not accept", Res: fwk.Node,
				Old: labelled(hintNode("4", "2"), "T4"), New: labelled(hintNode("4", "2"), "L4"), Want: fwk.QueueSkip},
			{Name: "label turned to an accepted model, node without GPUs", Res: fwk.Node,
				Old: labelled(hintNode("4", ""), "T4"), New: labelled(hintNode("4", ""), "A100"), Want: fwk.QueueSkip},
			{Name: "node added with GPUs of another model", Res: fwk.Node, New: labelled(hintNode("4", "2"), "T4"), Want: fwk.QueueSkip},
			{Name: "node added with GPUs of an accepted model", Res: fwk.Node, New: labelled(hintNode("4", "2"), "A100"), Want: fwk.Queue},
			{Name: "assigned share deleted", Res: fwk.Pod, Old: boundShare, Want: fwk.Queue},
		}},
		{"model only, no GPU", modelOnly, []plugintest.Hint{
			{Name: "label turned to the accepted model", Res: fwk.Node,
				Old: labelled(hintNode("4", ""), "T4"), New: labelled(hintNode("4", ""), "A100"), Want: fwk.Queue},
			{Name: "assigned share deleted", Res: fwk.Pod, Old: boundShare, Want: fwk.QueueSkip},
		}},
		{"cpu only", cpuOnly, []plugintest.Hint{
			{Name: "assigned share deleted", Res: fwk.Pod, Old: boundShare, Want: fwk.QueueSkip},
			{Name: "node given GPUs", Res: fwk.Node, Old: hintNode("4", "2"), New: hintNode("4", "4"), Want: fwk.QueueSkip},
		}},
	} {
		t.Run(pending.name, func(t *testing.T) {
			plugintest.CheckHints(t, pl, pending.pod, pending.cases)
		})
	}

	events, err := pl.EventsToRegister(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	labels := false
	for _, e := range events {
		labels = labels || (e.Event.Resource == fwk.Node && e.Event.ActionType&fwk.UpdateNodeLabel != 0)
	}
	if !labels {
		t.Errorf("events %v lack node label updates: a node relabelled with an accepted GPU model would not requeue the pod", events)
	}
}
