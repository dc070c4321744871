package measure

import (
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Record is what the harness knows of one pod it created.
type Record struct {
	Created       time.Time // just before the create request
	Measured      bool      // created by an op that measures
	Bound         time.Time // when the harness first saw it bound
	Node          string
	Unschedulable bool   // last seen PodScheduled=False, reason Unschedulable
	Reason        string // the scheduler's message then
	Preempted     bool   // the scheduler marked it a preemption victim
	Deleted       bool   // gone from the API (churn, scale-down, preemption, drills)
	// EverUnschedulable: found unschedulable at least once (counted once).
	EverUnschedulable bool
	// Pod is the pod as last seen; nil until the watch has seen it.
	Pod *v1.Pod
}

// Tracker follows the run's pods through create calls and watch events,
// keyed by UID (a pod recreated under the same name is another pod). The
// create call and the watch event race; whichever comes first makes the
// record.
type Tracker struct {
	mu   sync.Mutex
	pods map[types.UID]*Record
	// progress counts the records Progress reports, kept as they change:
	// a barrier asks every 20 ms, and at 150,000 pods a count over every
	// record each time was the harness's own largest cost.
	progress struct{ created, bound, unschedulable int }
	// obs, when set, hears of each pod created, bound or found
	// unschedulable (placer-bench --metrics-addr).
	obs Observer
}

// Observer follows a run as it goes: the live metrics of --metrics-addr.
// Calls come from the run's goroutines, in any order between pods.
type Observer interface {
	OpStarted(index int, op string)
	Finished()
	PodCreated()
	PodBound(latency time.Duration)
	PodUnschedulable()
}

// NewTracker returns an empty tracker that tells obs (if not nil) of the
// pods as they go.
func NewTracker(obs Observer) *Tracker {
	return &Tracker{pods: map[types.UID]*Record{}, obs: obs}
}

// countLocked adds r's share of Progress's counts, times d (1 after a
// change, -1 before it).
func (t *Tracker) countLocked(r *Record, d int) {
	if r.Created.IsZero() {
		return
	}
	t.progress.created += d
	switch {
	case !r.Bound.IsZero():
		t.progress.bound += d
	case r.Unschedulable:
		t.progress.unschedulable += d
	}
}

func (t *Tracker) recordLocked(uid types.UID) *Record {
	r := t.pods[uid]
	if r == nil {
		r = &Record{}
		t.pods[uid] = r
	}
	return r
}

// Created records a pod the harness created at at (just before the create
// request); measured pods count in latency and throughput.
func (t *Tracker) Created(uid types.UID, at time.Time, measured bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.recordLocked(uid)
	t.countLocked(r, -1)
	r.Created, r.Measured = at, measured
	t.countLocked(r, 1)
	if t.obs != nil {
		t.obs.PodCreated()
		// The watch saw it bound before the create call returned.
		if !r.Bound.IsZero() {
			t.obs.PodBound(r.Bound.Sub(at))
		}
	}
}

// Observe updates a pod's record from a watch event seen at now.
func (t *Tracker) Observe(pod *v1.Pod, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.recordLocked(pod.UID)
	t.countLocked(r, -1)
	defer t.countLocked(r, 1)
	r.Pod = pod
	if pod.Spec.NodeName != "" && r.Bound.IsZero() {
		r.Bound, r.Node, r.Unschedulable = now, pod.Spec.NodeName, false
		if t.obs != nil && !r.Created.IsZero() {
			t.obs.PodBound(now.Sub(r.Created))
		}
	}
	wasUnschedulable := r.Unschedulable || r.EverUnschedulable
	for _, c := range pod.Status.Conditions {
		// The scheduler marks a victim before deleting it.
		if c.Type == v1.DisruptionTarget && c.Status == v1.ConditionTrue && c.Reason == v1.PodReasonPreemptionByScheduler {
			r.Preempted = true
		}
		if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse && c.Reason == v1.PodReasonUnschedulable && pod.Spec.NodeName == "" {
			r.Unschedulable, r.Reason, r.EverUnschedulable = true, c.Message, true
		}
	}
	if t.obs != nil && r.Unschedulable && !wasUnschedulable {
		t.obs.PodUnschedulable()
	}
}

// Forget marks a pod deleted; its record stays for the figures of the run.
func (t *Tracker) Forget(uid types.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.pods[uid]; r != nil {
		r.Deleted = true
	}
}

// Record returns a copy of one pod's record.
func (t *Tracker) Record(uid types.UID) (Record, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.pods[uid]
	if !ok {
		return Record{}, false
	}
	return *r, true
}

// Progress counts the pods created so far, bound, and found unschedulable
// (attempted but not bound).
func (t *Tracker) Progress() (created, bound, unschedulable int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.progress.created, t.progress.bound, t.progress.unschedulable
}

// Records returns a copy of every record of a pod the harness created.
// Pods the watch saw that the harness did not create itself are left out.
func (t *Tracker) Records() []Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Record, 0, len(t.pods))
	for _, r := range t.pods {
		if !r.Created.IsZero() {
			out = append(out, *r)
		}
	}
	return out
}

// RecordsByUID is Records by UID.
func (t *Tracker) RecordsByUID() map[types.UID]Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[types.UID]Record, len(t.pods))
	for uid, r := range t.pods {
		if !r.Created.IsZero() {
			out[uid] = *r
		}
	}
	return out
}
