package runner

import (
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podRecord is what the harness knows of one pod it created.
type podRecord struct {
	created       time.Time // just before the create request
	measured      bool      // created by an op that measures
	bound         time.Time // when the harness first saw it bound
	node          string
	unschedulable bool   // last seen PodScheduled=False, reason Unschedulable
	reason        string // the scheduler's message then
	preempted     bool   // the scheduler marked it a preemption victim
	deleted       bool   // gone from the API (churn, scale-down, preemption, drills)
	// everUnschedulable: found unschedulable at least once (counted once).
	everUnschedulable bool
	pod               *v1.Pod
}

// podTracker follows the run's pods through an informer, keyed by UID (a
// pod recreated under the same name is another pod). The create call and the
// watch event race; whichever comes first makes the record.
type podTracker struct {
	mu   sync.Mutex
	pods map[types.UID]*podRecord
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

func newPodTracker() *podTracker { return &podTracker{pods: map[types.UID]*podRecord{}} }

func (t *podTracker) recordLocked(uid types.UID) *podRecord {
	r := t.pods[uid]
	if r == nil {
		r = &podRecord{}
		t.pods[uid] = r
	}
	return r
}

func (t *podTracker) created(uid types.UID, at time.Time, measured bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.recordLocked(uid)
	r.created, r.measured = at, measured
	if t.obs != nil {
		t.obs.PodCreated()
		// The watch saw it bound before the create call returned.
		if !r.bound.IsZero() {
			t.obs.PodBound(r.bound.Sub(at))
		}
	}
}

// observe updates a record from an informer event.
func (t *podTracker) observe(pod *v1.Pod, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.recordLocked(pod.UID)
	r.pod = pod
	if pod.Spec.NodeName != "" && r.bound.IsZero() {
		r.bound, r.node, r.unschedulable = now, pod.Spec.NodeName, false
		if t.obs != nil && !r.created.IsZero() {
			t.obs.PodBound(now.Sub(r.created))
		}
	}
	wasUnschedulable := r.unschedulable || r.everUnschedulable
	for _, c := range pod.Status.Conditions {
		// The scheduler marks a victim before deleting it.
		if c.Type == v1.DisruptionTarget && c.Status == v1.ConditionTrue && c.Reason == v1.PodReasonPreemptionByScheduler {
			r.preempted = true
		}
		if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse && c.Reason == v1.PodReasonUnschedulable && pod.Spec.NodeName == "" {
			r.unschedulable, r.reason, r.everUnschedulable = true, c.Message, true
		}
	}
	if t.obs != nil && r.unschedulable && !wasUnschedulable {
		t.obs.PodUnschedulable()
	}
}

// forget marks a pod deleted; its record stays for the figures of the run.
func (t *podTracker) forget(uid types.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if r := t.pods[uid]; r != nil {
		r.deleted = true
	}
}

// record returns a copy of one pod's record.
func (t *podTracker) record(uid types.UID) (podRecord, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.pods[uid]
	if !ok {
		return podRecord{}, false
	}
	return *r, true
}

// progress counts the pods created so far, bound, and found unschedulable
// (attempted but not bound).
func (t *podTracker) progress() (created, bound, unschedulable int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.pods {
		if r.created.IsZero() {
			continue
		}
		created++
		switch {
		case !r.bound.IsZero():
			bound++
		case r.unschedulable:
			unschedulable++
		}
	}
	return
}

// snapshot returns a copy of every record of a pod the harness created.
func (t *podTracker) snapshot() []podRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]podRecord, 0, len(t.pods))
	for _, r := range t.pods {
		if !r.created.IsZero() {
			out = append(out, *r)
		}
	}
	return out
}

// snapshotByUID returns a copy of every record of a pod the harness created,
// by UID.
func (t *podTracker) snapshotByUID() map[types.UID]podRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[types.UID]podRecord, len(t.pods))
	for uid, r := range t.pods {
		if !r.created.IsZero() {
			out[uid] = *r
		}
	}
	return out
}
