package statefulsetaware

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
)

func TestQueueingHints(t *testing.T) {
	e := newEnv(t, nil, 3, 1)
	bound := func(p *v1.Pod) *v1.Pod {
		p.Spec.NodeName = "z0-n0"
		return p
	}
	pending := e.pod("db", 2)
	pending.Spec.Volumes = []v1.Volume{{Name: "data", VolumeSource: v1.VolumeSource{
		PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: "data-db-2"}}}}
	claim := func(ns, name string) *v1.PersistentVolumeClaim {
		return &v1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	plugintest.CheckHints(t, e.pl, pending, []plugintest.Hint{
		{Name: "replica of the set deleted", Res: fwk.Pod, Old: bound(e.pod("db", 0)), New: nil, Want: fwk.Queue},
		{Name: "replica of the set bound", Res: fwk.Pod, Old: e.pod("db", 1), New: bound(e.pod("db", 1)), Want: fwk.Queue},
		{Name: "replica of another set deleted", Res: fwk.Pod, Old: bound(e.pod("other", 0)), New: nil, Want: fwk.QueueSkip},
		{Name: "its claim bound", Res: fwk.PersistentVolumeClaim, Old: claim("ns", "data-db-2"), New: claim("ns", "data-db-2"), Want: fwk.Queue},
		{Name: "another replica's claim", Res: fwk.PersistentVolumeClaim, Old: nil, New: claim("ns", "data-db-1"), Want: fwk.QueueSkip},
		{Name: "a claim of the same name elsewhere", Res: fwk.PersistentVolumeClaim, Old: nil, New: claim("other", "data-db-2"), Want: fwk.QueueSkip},
	})
}
