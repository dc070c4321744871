package zonespread

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/utils/ptr"
)

func TestQueueingHints(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	c := newCluster(t, nil, threeZones()...)
	events, err := c.pl.EventsToRegister(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	hints := map[fwk.EventResource]fwk.QueueingHintFn{}
	for _, e := range events {
		if e.QueueingHintFn == nil {
			t.Errorf("%v registered without a hint", e.Event)
		}
		hints[e.Event.Resource] = e.QueueingHintFn
	}
	bound := func(p *v1.Pod, node string) *v1.Pod {
		p.Spec.NodeName = node
		return p
	}
	pending := owned("p", "ReplicaSet", "web-2222")
	sameRS := bound(owned("q", "ReplicaSet", "web-2222"), "a1")
	terminating := sameRS.DeepCopy()
	terminating.DeletionTimestamp = ptr.To(metav1.Now())
	unlabelled := mkNode("x", "")
	delete(unlabelled.Labels, hostKey)
	for _, tc := range []struct {
		name           string
		res            fwk.EventResource
		oldObj, newObj any
		want           fwk.QueueingHint
	}{
		{"replica of its ReplicaSet deleted", fwk.Pod, sameRS, nil, fwk.Queue},
		{"replica of its ReplicaSet terminating", fwk.Pod, sameRS, terminating, fwk.Queue},
		{"pod of the Deployment's old ReplicaSet deleted", fwk.Pod, bound(owned("o", "ReplicaSet", "web-1111"), "a1"), nil, fwk.QueueSkip},
		{"another workload's pod deleted", fwk.Pod, bound(owned("o", "StatefulSet", "db"), "a1"), nil, fwk.QueueSkip},
		{"node with a zone added", fwk.Node, nil, mkNode("d1", "d"), fwk.Queue},
		{"node without the keys added", fwk.Node, nil, unlabelled, fwk.QueueSkip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hints[tc.res](logger, pending, tc.oldObj, tc.newObj)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("hint %v, want %v", got, tc.want)
			}
		})
	}
}
