package zonespread

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
)

func TestQueueingHints(t *testing.T) {
	c := newCluster(t, nil, threeZones()...)
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
	plugintest.CheckHints(t, c.pl, pending, []plugintest.Hint{
		{Name: "replica of its ReplicaSet deleted", Res: fwk.Pod, Old: sameRS, New: nil, Want: fwk.Queue},
		{Name: "replica of its ReplicaSet terminating", Res: fwk.Pod, Old: sameRS, New: terminating, Want: fwk.Queue},
		{Name: "pod of the Deployment's old ReplicaSet deleted", Res: fwk.Pod, Old: bound(owned("o", "ReplicaSet", "web-1111"), "a1"), New: nil, Want: fwk.QueueSkip},
		{Name: "another workload's pod deleted", Res: fwk.Pod, Old: bound(owned("o", "StatefulSet", "db"), "a1"), New: nil, Want: fwk.QueueSkip},
		{Name: "node with a zone added", Res: fwk.Node, Old: nil, New: mkNode("d1", "d"), Want: fwk.Queue},
		{Name: "node without the keys added", Res: fwk.Node, Old: nil, New: unlabelled, Want: fwk.QueueSkip},
	})
}
