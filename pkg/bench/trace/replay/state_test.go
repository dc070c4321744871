package replay

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/placer-dev/placer/pkg/bench/trace"
	"github.com/placer-dev/placer/pkg/gpushare"
)

// bound is a watch event of a pod on node, with annotations.
func bound(name, node string, annotations map[string]string) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations}, Spec: v1.PodSpec{NodeName: node}}
}

func device(index string) map[string]string {
	return map[string]string{gpushare.DeviceAnnotation: index}
}

func newTestState() *state {
	return newState(&trace.Trace{Nodes: []trace.Node{{Name: "gpu-0", GPUs: 4}, {Name: "cpu-0"}}})
}

// A pod offered as a share counts its share as allocated only when it is
// bound naming one device of its node; one bound without (a profile that
// cannot share) is placed, holds nothing and is counted apart. A pod
// offered whole counts what it asked for with or without a device.
func TestShareCountsOnlyWithADevice(t *testing.T) {
	for _, tc := range []struct {
		name      string
		share     bool
		event     *v1.Pod
		allocated int64
		without   int
		badDevice string
	}{
		{name: "share with its device", share: true, event: bound("p", "gpu-0", device("3")), allocated: 300},
		{name: "share without a device", share: true, event: bound("p", "gpu-0", nil), without: 1},
		{name: "share on a node without GPUs", share: true, event: bound("p", "cpu-0", nil), without: 1},
		{name: "share naming a device its node lacks", share: true, event: bound("p", "gpu-0", device("4")), without: 1,
			badDevice: `pod p: node gpu-0: annotation placer.dev/gpu-device="4": want distinct device indices 0 to 3`},
		{name: "share naming two devices", share: true, event: bound("p", "gpu-0", device("0,1")), without: 1,
			badDevice: "2 devices for a share of one"},
		{name: "share with a device on a node without GPUs", share: true, event: bound("p", "cpu-0", device("0")), without: 1,
			badDevice: "on node cpu-0, which has no GPUs"},
		{name: "offered whole", event: bound("p", "gpu-0", nil), allocated: 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestState()
			s.offered("p", 300, tc.share)
			s.observe(tc.event)
			without, bad := s.sharesWithoutDevice()
			if s.allocated != tc.allocated || without != tc.without || !s.bound["p"] {
				t.Errorf("allocated %d, without a device %d, bound %v; want %d, %d, true", s.allocated, without, s.bound["p"], tc.allocated, tc.without)
			}
			if (tc.badDevice == "") != (bad == "") || !strings.Contains(bad, tc.badDevice) {
				t.Errorf("device annotation error %q, want one containing %q", bad, tc.badDevice)
			}
			s.forget("p")
			if s.allocated != 0 {
				t.Errorf("allocated %d after the pod's deletion, want 0", s.allocated)
			}
		})
	}
}

// A device annotation that comes in an update after the binding counts the
// share then, once; the pod's deletion takes it back.
func TestShareCountsADeviceNamedLate(t *testing.T) {
	s := newTestState()
	s.offered("late", 400, true)
	s.offered("whole", 2000, false)
	s.observe(bound("whole", "gpu-0", device("0,1")))
	s.observe(bound("late", "gpu-0", nil))
	if s.allocated != 2000 {
		t.Fatalf("allocated %d before the device is named, want 2000", s.allocated)
	}
	for range 2 {
		s.observe(bound("late", "gpu-0", device("2")))
	}
	if without, _ := s.sharesWithoutDevice(); s.allocated != 2400 || without != 0 {
		t.Errorf("allocated %d, without a device %d after the update; want 2400 (counted once), 0", s.allocated, without)
	}
	s.forget("late")
	if s.allocated != 2000 {
		t.Errorf("allocated %d after the share's deletion, want 2000", s.allocated)
	}
}
