package topology

import (
	"slices"
	"sort"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// NodeIndex groups node names by topology domain for each of its keys, kept
// up to date from the scheduler's node informer. With it, a PreFilter visits
// domains, not nodes: how many zones there are, not how many nodes.
type NodeIndex struct {
	mu      sync.RWMutex
	keys    []string
	labels  map[string][]string              // node -> its value for each key ("" when missing)
	domains []map[string]map[string]struct{} // per key: value -> node names
	// frozen holds, per key, copies of domains' node sets handed out by
	// DomainNodes, which callers keep beyond the lock; a domain's copy is
	// dropped when a node joins or leaves it and made again on demand.
	frozen []map[string]sets.Set[string]
}

// DomainOfNode is node's domain for key: the label's value. A node without
// the label, or with an empty value, is in no domain: the index, the
// filters and the scores of every topology plugin read it the same way.
func DomainOfNode(node *v1.Node, key string) (string, bool) {
	v := node.Labels[key]
	return v, v != ""
}

// NewNodeIndex indexes nodes by the given label keys.
func NewNodeIndex(keys []string) *NodeIndex {
	ix := &NodeIndex{keys: keys, labels: map[string][]string{},
		domains: make([]map[string]map[string]struct{}, len(keys)), frozen: make([]map[string]sets.Set[string], len(keys))}
	for i := range ix.domains {
		ix.domains[i] = map[string]map[string]struct{}{}
		ix.frozen[i] = map[string]sets.Set[string]{}
	}
	return ix
}

// Set records a node's labels, replacing what was known of it. An update
// that leaves the node's values for the keys as they were (status, taints,
// other labels) changes nothing.
func (ix *NodeIndex) Set(node *v1.Node) {
	values := make([]string, len(ix.keys))
	for i, k := range ix.keys {
		values[i], _ = DomainOfNode(node, k)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if old, ok := ix.labels[node.Name]; ok && slices.Equal(old, values) {
		return
	}
	ix.deleteLocked(node.Name)
	for i, v := range values {
		if v == "" {
			continue
		}
		delete(ix.frozen[i], v)
		d := ix.domains[i][v]
		if d == nil {
			d = map[string]struct{}{}
			ix.domains[i][v] = d
		}
		d[node.Name] = struct{}{}
	}
	ix.labels[node.Name] = values
}

// Delete forgets a node.
func (ix *NodeIndex) Delete(name string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.deleteLocked(name)
}

func (ix *NodeIndex) deleteLocked(name string) {
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
		delete(ix.frozen[i], v)
		if len(ix.domains[i][v]) == 0 {
			delete(ix.domains[i], v) // a zone whose last node left is no zone
		}
	}
}

// DomainCounts turns per-node counts into per-domain counts for key i. Only
// occupied domains appear (a missing domain counts 0), so the cost is the
// nodes the workload occupies, not the domains there are: with a hostname
// key those are every node. Pods on nodes that are gone or lack the key are
// not counted.
func (ix *NodeIndex) DomainCounts(i int, perNode map[string]int) map[string]int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make(map[string]int, len(perNode))
	for node, n := range perNode {
		if values, ok := ix.labels[node]; ok && values[i] != "" {
			out[values[i]] += n
		}
	}
	return out
}

// DomainOf returns node's value for key i, and false for an unknown node or
// one without the label.
func (ix *NodeIndex) DomainOf(i int, node string) (string, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	values, ok := ix.labels[node]
	if !ok || values[i] == "" {
		return "", false
	}
	return values[i], true
}

// DomainNodes returns the names of the nodes of domain d for key i, as a set
// the caller may keep and read without a lock but must not change: a copy
// made on the first call after the domain last changed, and shared until it
// changes again (a PreFilterResult of one zone costs no copy of ours).
func (ix *NodeIndex) DomainNodes(i int, d string) sets.Set[string] {
	ix.mu.RLock()
	s, ok := ix.frozen[i][d]
	ix.mu.RUnlock()
	if ok {
		return s
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if s, ok := ix.frozen[i][d]; ok {
		return s
	}
	s = make(sets.Set[string], len(ix.domains[i][d]))
	for name := range ix.domains[i][d] {
		s.Insert(name)
	}
	ix.frozen[i][d] = s
	return s
}

// NumDomains returns how many values of key i exist now.
func (ix *NodeIndex) NumDomains(i int) int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.domains[i])
}

// Domains returns the values of key i that exist now, sorted: a stable order
// that the same set of nodes always yields.
func (ix *NodeIndex) Domains(i int) []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make([]string, 0, len(ix.domains[i]))
	for v := range ix.domains[i] {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// EffectiveMin returns the smallest count among domains of key i that have
// at least one node on which the pod could run, and that domain (counts as
// from DomainCounts: missing domains count 0). Empty domains are probed
// first, then occupied ones in ascending order of count, and the probe stops
// at the first node that fits: in the usual case, the first node of the
// first domain tried. ok is false when no domain can take the pod.
func (ix *NodeIndex) EffectiveMin(i int, counts map[string]int, nodes framework.NodeInfoLister, f *Feasibility) (minCount int, domain string, ok bool) {
	for _, d := range ix.Domains(i) {
		if counts[d] == 0 && ix.AnyFits(i, d, nodes, f, nil) {
			return 0, d, true
		}
	}
	occupied := make([]string, 0, len(counts))
	for d, n := range counts {
		if n > 0 {
			occupied = append(occupied, d)
		}
	}
	sort.Slice(occupied, func(a, b int) bool {
		if counts[occupied[a]] != counts[occupied[b]] {
			return counts[occupied[a]] < counts[occupied[b]]
		}
		return occupied[a] < occupied[b]
	})
	for _, d := range occupied {
		if ix.AnyFits(i, d, nodes, f, nil) {
			return counts[d], d, true
		}
	}
	return 0, "", false
}

// AnyFits reports whether some node of domain d (for key i) that accept
// allows (nil: any) could take the pod. It stops at the first such node: in
// the usual case the first one tried.
func (ix *NodeIndex) AnyFits(i int, d string, nodes framework.NodeInfoLister, f *Feasibility, accept func(node string) bool) bool {
	// Walk the domain's nodes in place: copying a zone's thousand names to
	// look at the first one or two would make every cycle O(nodes).
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	for name := range ix.domains[i][d] {
		if accept != nil && !accept(name) {
			continue
		}
		if ni, err := nodes.Get(name); err == nil && f.Fits(ni) {
			return true
		}
	}
	return false
}

// UsableDomains returns, sorted, the values of key i that have a node on
// which the pod could run: the domains that can still take it. A zone that
// exists but is cordoned, full, tainted or excluded by the pod's affinity is
// left out.
func (ix *NodeIndex) UsableDomains(i int, nodes framework.NodeInfoLister, f *Feasibility) []string {
	var out []string
	for _, d := range ix.Domains(i) {
		if ix.AnyFits(i, d, nodes, f, nil) {
			out = append(out, d)
		}
	}
	return out
}
