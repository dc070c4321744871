package zonespread

import (
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// counts keeps, for every workload, which node each of its placed pods is
// on. It is fed by the scheduler's pod informer (pods bound, moved, finished,
// deleted) and by Reserve/Unreserve (pods assumed in this scheduler but not
// yet bound), so no scheduling cycle scans the cluster's pods. Pods are kept
// by UID: the informer confirming a pod Reserve already counted changes nothing.
type counts struct {
	mu    sync.RWMutex
	pods  map[workload]map[types.UID]string // workload -> pod UID -> node
	index map[types.UID]workload            // pod UID -> its workload, for deletes
}

func newCounts() *counts {
	return &counts{pods: map[workload]map[types.UID]string{}, index: map[types.UID]workload{}}
}

// place records that a pod of w is on node (replacing where it was).
func (c *counts) place(w workload, uid types.UID, node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.index[uid]; ok && old != w {
		c.removeLocked(uid)
	}
	m := c.pods[w]
	if m == nil {
		m = map[types.UID]string{}
		c.pods[w] = m
	}
	m[uid] = node
	c.index[uid] = w
}

// remove forgets a pod wherever it was counted.
func (c *counts) remove(uid types.UID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(uid)
}

// removeIfOn forgets a pod only if it is still counted on node: Unreserve
// must not undo a newer placement of the same pod.
func (c *counts) removeIfOn(uid types.UID, node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w, ok := c.index[uid]; ok && c.pods[w][uid] == node {
		c.removeLocked(uid)
	}
}

func (c *counts) removeLocked(uid types.UID) {
	w, ok := c.index[uid]
	if !ok {
		return
	}
	delete(c.index, uid)
	delete(c.pods[w], uid)
	if len(c.pods[w]) == 0 {
		delete(c.pods, w)
	}
}

// perNode returns how many pods of w are on each node. The map is a copy the
// caller owns; its size is the number of nodes the workload occupies.
func (c *counts) perNode(w workload) map[string]int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make(map[string]int, len(c.pods[w]))
	for _, node := range c.pods[w] {
		out[node]++
	}
	return out
}

// counted reports whether a pod is placed: bound, or assumed by Reserve.
// Pods that have finished no longer take part in spreading.
func counted(pod *v1.Pod) bool {
	return pod.Spec.NodeName != "" && pod.Status.Phase != v1.PodSucceeded && pod.Status.Phase != v1.PodFailed
}
