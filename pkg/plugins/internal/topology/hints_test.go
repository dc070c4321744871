package topology

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/utils/ptr"
)

// hintPod is a pod of group (its "app" label; none when empty) bound to node.
func hintPod(uid, app, node string) *v1.Pod {
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: uid, Namespace: "ns", UID: types.UID(uid), Labels: map[string]string{}},
		Spec: v1.PodSpec{NodeName: node}}
	if app != "" {
		p.Labels["app"] = app
	}
	return p
}

func withPod(p *v1.Pod, f func(*v1.Pod)) *v1.Pod {
	p = p.DeepCopy()
	f(p)
	return p
}

func TestPodHint(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	groupOf := func(p *v1.Pod) (string, bool) {
		app, ok := p.Labels["app"]
		return app, ok
	}
	holds := func(p *v1.Pod) bool { return Placed(p) && p.DeletionTimestamp == nil }
	hint := PodHint(groupOf, holds)
	pending := hintPod("p", "web", "")
	replica := hintPod("r", "web", "n1")
	for _, tc := range []struct {
		name           string
		pod            *v1.Pod
		oldObj, newObj any
		want           fwk.QueueingHint
	}{
		{"replica deleted", pending, replica, nil, fwk.Queue},
		{"replica bound", pending, hintPod("r", "web", ""), replica, fwk.Queue},
		{"replica added bound", pending, nil, replica, fwk.Queue},
		{"replica released by its owner", pending, replica, withPod(replica, func(p *v1.Pod) { delete(p.Labels, "app") }), fwk.Queue},
		{"pod adopted into the workload", pending, withPod(replica, func(p *v1.Pod) { p.Labels["app"] = "db" }), replica, fwk.Queue},
		{"replica terminating", pending, replica, withPod(replica, func(p *v1.Pod) { p.DeletionTimestamp = ptr.To(metav1.Now()) }), fwk.Queue},
		{"replica finished", pending, replica, withPod(replica, func(p *v1.Pod) { p.Status.Phase = v1.PodSucceeded }), fwk.Queue},
		{"replica's status updated", pending, replica, withPod(replica, func(p *v1.Pod) { p.Status.PodIP = "10.0.0.1" }), fwk.QueueSkip},
		{"unbound replica deleted", pending, hintPod("r", "web", ""), nil, fwk.QueueSkip},
		{"another workload's pod deleted", pending, hintPod("o", "db", "n1"), nil, fwk.QueueSkip},
		{"pod without a workload deleted", pending, hintPod("o", "", "n1"), nil, fwk.QueueSkip},
		{"the pending pod itself updated", pending, pending, withPod(pending, func(p *v1.Pod) { p.Spec.Tolerations = []v1.Toleration{{Operator: v1.TolerationOpExists}} }), fwk.Queue},
		{"pending pod of no workload", hintPod("p", "", ""), replica, nil, fwk.QueueSkip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hint(logger, tc.pod, tc.oldObj, tc.newObj)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("hint %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := hint(logger, pending, "not a pod", nil); err == nil {
		t.Error("no error for an object that is not a pod")
	}
}

func TestNodeHint(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	hint := NodeHint([]string{zoneKey})
	n := testNode("a1", "a")
	bare := testNode("x", "")
	for _, tc := range []struct {
		name           string
		oldObj, newObj any
		want           fwk.QueueingHint
	}{
		{"node with a zone added", nil, n, fwk.Queue},
		{"node without a zone added", nil, bare, fwk.QueueSkip},
		{"node with a zone deleted", n, nil, fwk.Queue},
		{"node without a zone deleted", bare, nil, fwk.QueueSkip},
		{"zone changed", n, withNode(n, func(n *v1.Node) { n.Labels[zoneKey] = "b" }), fwk.Queue},
		{"zone label added", bare, withNode(bare, func(n *v1.Node) { n.Labels[zoneKey] = "b" }), fwk.Queue},
		{"another label changed (node affinity may select it)", n, withNode(n, func(n *v1.Node) { n.Labels["disk"] = "ssd" }), fwk.Queue},
		{"cordoned", n, withNode(n, func(n *v1.Node) { n.Spec.Unschedulable = true }), fwk.Queue},
		{"tainted", n, withNode(n, func(n *v1.Node) { n.Spec.Taints = []v1.Taint{{Key: "k", Effect: v1.TaintEffectNoSchedule}} }), fwk.Queue},
		{"allocatable changed", n, withNode(n, func(n *v1.Node) { n.Status.Allocatable[v1.ResourceCPU] = resource.MustParse("8") }), fwk.Queue},
		{"heartbeat", n, withNode(n, func(n *v1.Node) {
			n.Status.Conditions = []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue, LastHeartbeatTime: metav1.Now()}}
		}), fwk.QueueSkip},
		{"node without a zone cordoned", bare, withNode(bare, func(n *v1.Node) { n.Spec.Unschedulable = true }), fwk.QueueSkip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hint(logger, nil, tc.oldObj, tc.newObj)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("hint %v, want %v", got, tc.want)
			}
		})
	}
}

func withNode(n *v1.Node, f func(*v1.Node)) *v1.Node {
	n = n.DeepCopy()
	f(n)
	return n
}
