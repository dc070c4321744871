package statefulsetaware

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2/ktesting"
	fwk "k8s.io/kube-scheduler/framework"
)

func TestQueueingHints(t *testing.T) {
	logger, _ := ktesting.NewTestContext(t)
	e := newEnv(t, nil, 3, 1)
	events, err := e.pl.EventsToRegister(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	hints := map[fwk.EventResource]fwk.QueueingHintFn{}
	for _, ev := range events {
		if ev.QueueingHintFn == nil {
			t.Errorf("%v registered without a hint", ev.Event)
		}
		hints[ev.Event.Resource] = ev.QueueingHintFn
	}
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
	for _, tc := range []struct {
		name           string
		res            fwk.EventResource
		oldObj, newObj any
		want           fwk.QueueingHint
	}{
		{"replica of the set deleted", fwk.Pod, bound(e.pod("db", 0)), nil, fwk.Queue},
		{"replica of the set bound", fwk.Pod, e.pod("db", 1), bound(e.pod("db", 1)), fwk.Queue},
		{"replica of another set deleted", fwk.Pod, bound(e.pod("other", 0)), nil, fwk.QueueSkip},
		{"its claim bound", fwk.PersistentVolumeClaim, claim("ns", "data-db-2"), claim("ns", "data-db-2"), fwk.Queue},
		{"another replica's claim", fwk.PersistentVolumeClaim, nil, claim("ns", "data-db-1"), fwk.QueueSkip},
		{"a claim of the same name elsewhere", fwk.PersistentVolumeClaim, nil, claim("other", "data-db-2"), fwk.QueueSkip},
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
