package resourceaware

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
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
