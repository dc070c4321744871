package replay

import (
	"fmt"
	"sync"

	v1 "k8s.io/api/core/v1"

	"github.com/placer-dev/placer/pkg/bench/trace"
	"github.com/placer-dev/placer/pkg/gpushare"
)

// state is what the replay knows of its pods from the watch.
type state struct {
	mu sync.Mutex
	// milli is each offered pod's GPU request in milli-GPU; bound, the
	// pods bound; unsched, those found unschedulable, with the reason.
	milli   map[string]int64
	bound   map[string]bool
	unsched map[string]string
	// allocated is the milli-GPU the bound pods hold: the paper's
	// allocated GPU. A pod counts what it asked for, so while a sharing
	// pod holds a whole device (result.GPUSharingWhole), the rest of that
	// device is idle and counts as unallocated.
	allocated int64
	// counted is what each bound pod adds to allocated, taken back when
	// it is deleted.
	counted map[string]int64
	// shares are the pods offered as a share of one GPU
	// (result.GPUSharingShare). A profile that cannot share binds such a pod as one asking for no
	// GPU, so its share counts only once the bound pod names its device;
	// withDevice, the shares that did (kept after deletion, for the count
	// at the end).
	shares     map[string]bool
	withDevice map[string]bool
	// gpus is each node's device count: a device index must be below it.
	gpus map[string]int
	// badDevice describes the first device annotation that named no
	// device of its node, a fault of the profile's to report.
	badDevice string
	waiters   map[string]chan struct{}
	// everBound and unschedSeen outlive a pod's deletion: the timeline
	// judges a pod as it departs.
	everBound   map[string]bool
	unschedSeen map[string]bool
}

func newState(t *trace.Trace) *state {
	s := &state{milli: map[string]int64{}, bound: map[string]bool{}, unsched: map[string]string{}, counted: map[string]int64{},
		shares: map[string]bool{}, withDevice: map[string]bool{}, gpus: map[string]int{}, waiters: map[string]chan struct{}{},
		everBound: map[string]bool{}, unschedSeen: map[string]bool{}}
	for _, n := range t.Nodes {
		s.gpus[n.Name] = int(n.GPUs)
	}
	return s
}

// offered records a pod about to be created, before the watch can see it
// bound: its GPU request and whether it is offered as a share.
func (s *state) offered(name string, milli int64, share bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.milli[name] = milli
	if share {
		s.shares[name] = true
	}
}

func (s *state) observe(pod *v1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	decided := false
	if pod.Spec.NodeName != "" {
		if !s.bound[pod.Name] {
			s.bound[pod.Name], s.everBound[pod.Name] = true, true
			delete(s.unsched, pod.Name)
			if !s.shares[pod.Name] {
				s.count(pod.Name)
			}
		}
		// The scheduler writes the device in PreBind, so the event that
		// shows the pod bound carries it; should an update bring it later,
		// the share counts then, once.
		if s.shares[pod.Name] && !s.withDevice[pod.Name] && s.namesDevice(pod) {
			s.withDevice[pod.Name] = true
			s.count(pod.Name)
		}
		decided = true
	} else if ok, reason := unschedulable(pod); ok {
		s.unsched[pod.Name], s.unschedSeen[pod.Name] = reason, true
		decided = true
	}
	if ch := s.waiters[pod.Name]; decided && ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// count adds a bound pod's GPU to allocated.
func (s *state) count(name string) {
	s.counted[name] = s.milli[name]
	s.allocated += s.milli[name]
}

// namesDevice reports a bound share whose device annotation names one
// device of its node. One that names none, or several, is remembered in
// badDevice and not counted.
func (s *state) namesDevice(pod *v1.Pod) bool {
	value, ok := pod.Annotations[gpushare.DeviceAnnotation]
	if !ok {
		return false
	}
	node := pod.Spec.NodeName
	bad := ""
	if gpus := s.gpus[node]; gpus == 0 {
		bad = fmt.Sprintf("annotation %s=%q on node %s, which has no GPUs", gpushare.DeviceAnnotation, value, node)
	} else if devices, err := gpushare.ParseDevices(gpushare.DeviceAnnotation, value, gpus); err != nil {
		bad = fmt.Sprintf("node %s: %v", node, err)
	} else if len(devices) != 1 {
		bad = fmt.Sprintf("annotation %s=%q on node %s: %d devices for a share of one", gpushare.DeviceAnnotation, value, node, len(devices))
	}
	if bad == "" {
		return true
	}
	if s.badDevice == "" {
		s.badDevice = "pod " + pod.Name + ": " + bad
	}
	return false
}

// forget releases what a deleted pod held.
func (s *state) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allocated -= s.counted[name]
	delete(s.counted, name)
	delete(s.bound, name)
	delete(s.unsched, name)
}

// sharesWithoutDevice counts the shares that were bound but never named a
// device (placed, holding no GPU), and describes the first device
// annotation that named no device of its node.
func (s *state) sharesWithoutDevice() (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for name := range s.shares {
		if s.everBound[name] && !s.withDevice[name] {
			n++
		}
	}
	return n, s.badDevice
}
