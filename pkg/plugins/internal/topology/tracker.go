package topology

import (
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Tracker keeps, for every group (a workload), a value for each of its placed
// pods — at least the node it is on. It is fed by the scheduler's pod
// informer (pods bound, moved, finished, deleted) and by Reserve/Unreserve
// (pods assumed but not yet bound), so no scheduling cycle scans the cluster's
// pods. Pods are kept by UID: the informer confirming a pod Reserve already
// recorded changes nothing.
type Tracker[G comparable, V any] struct {
	mu    sync.RWMutex
	pods  map[G]map[types.UID]V
	index map[types.UID]G
}

// NewTracker returns an empty tracker.
func NewTracker[G comparable, V any]() *Tracker[G, V] {
	return &Tracker[G, V]{pods: map[G]map[types.UID]V{}, index: map[types.UID]G{}}
}

// Place records a pod of group g with value v, replacing what was known of it.
func (t *Tracker[G, V]) Place(g G, uid types.UID, v V) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.index[uid]; ok && old != g {
		t.removeLocked(uid)
	}
	m := t.pods[g]
	if m == nil {
		m = map[types.UID]V{}
		t.pods[g] = m
	}
	m[uid] = v
	t.index[uid] = g
}

// Remove forgets a pod wherever it was recorded.
func (t *Tracker[G, V]) Remove(uid types.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.removeLocked(uid)
}

// RemoveIf forgets a pod only if match accepts its recorded value; Unreserve
// uses it so as not to undo a newer placement of the same pod.
func (t *Tracker[G, V]) RemoveIf(uid types.UID, match func(V) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g, ok := t.index[uid]; ok && match(t.pods[g][uid]) {
		t.removeLocked(uid)
	}
}

func (t *Tracker[G, V]) removeLocked(uid types.UID) {
	g, ok := t.index[uid]
	if !ok {
		return
	}
	delete(t.index, uid)
	delete(t.pods[g], uid)
	if len(t.pods[g]) == 0 {
		delete(t.pods, g)
	}
}

// Values returns a copy of the values recorded for group g.
func (t *Tracker[G, V]) Values(g G) []V {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]V, 0, len(t.pods[g]))
	for _, v := range t.pods[g] {
		out = append(out, v)
	}
	return out
}

// Placed reports whether a pod holds a place: bound (or assumed) to a node
// and not finished.
func Placed(pod *v1.Pod) bool {
	return pod.Spec.NodeName != "" && pod.Status.Phase != v1.PodSucceeded && pod.Status.Phase != v1.PodFailed
}
