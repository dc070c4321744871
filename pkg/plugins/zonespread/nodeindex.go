package zonespread

import (
	"sync"

	v1 "k8s.io/api/core/v1"
)

// nodeIndex groups node names by topology domain for each configured key,
// kept up to date from the scheduler's node informer. With it, PreFilter
// visits domains, not nodes: how many zones there are, not how many nodes.
type nodeIndex struct {
	mu      sync.RWMutex
	keys    []string
	labels  map[string][]string              // node -> its value for each key ("" when missing)
	domains []map[string]map[string]struct{} // per key: value -> node names
}

func newNodeIndex(keys []string) *nodeIndex {
	ix := &nodeIndex{keys: keys, labels: map[string][]string{}, domains: make([]map[string]map[string]struct{}, len(keys))}
	for i := range ix.domains {
		ix.domains[i] = map[string]map[string]struct{}{}
	}
	return ix
}

// set records a node's labels, replacing what was known of it.
func (ix *nodeIndex) set(node *v1.Node) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.deleteLocked(node.Name)
	values := make([]string, len(ix.keys))
	for i, k := range ix.keys {
		v, ok := node.Labels[k]
		if !ok {
			continue
		}
		values[i] = v
		d := ix.domains[i][v]
		if d == nil {
			d = map[string]struct{}{}
			ix.domains[i][v] = d
		}
		d[node.Name] = struct{}{}
	}
	ix.labels[node.Name] = values
}

func (ix *nodeIndex) delete(name string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.deleteLocked(name)
}

func (ix *nodeIndex) deleteLocked(name string) {
	values, ok := ix.labels[name]
	if !ok {
		return
	}
	delete(ix.labels, name)
	for i, v := range values {
		if v == "" {
			continue
		}
		delete(ix.domains[i][v], name)
		if len(ix.domains[i][v]) == 0 {
			delete(ix.domains[i], v) // a zone whose last node left is no zone
		}
	}
}

// domainCounts turns per-node counts into per-domain counts for key i, over
// every domain that exists now (empty domains count 0). Pods on nodes that
// are gone or lack the key are not counted.
func (ix *nodeIndex) domainCounts(i int, perNode map[string]int) map[string]int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make(map[string]int, len(ix.domains[i]))
	for v := range ix.domains[i] {
		out[v] = 0
	}
	for node, n := range perNode {
		if values, ok := ix.labels[node]; ok && values[i] != "" {
			out[values[i]] += n
		}
	}
	return out
}

// nodesIn returns the names of the nodes in domain value of key i.
func (ix *nodeIndex) nodesIn(i int, value string) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]string, 0, len(ix.domains[i][value]))
	for n := range ix.domains[i][value] {
		out = append(out, n)
	}
	return out
}
