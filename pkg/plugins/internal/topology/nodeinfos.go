package topology

import (
	"fmt"

	fwk "k8s.io/kube-scheduler/framework"
)

// NodeInfoMap is a framework.NodeInfoLister over a fixed set of nodes, for
// tests and tools that run plugins outside a scheduler.
type NodeInfoMap map[string]fwk.NodeInfo

// List returns every node.
func (m NodeInfoMap) List() ([]fwk.NodeInfo, error) {
	out := make([]fwk.NodeInfo, 0, len(m))
	for _, n := range m {
		out = append(out, n)
	}
	return out, nil
}

// HavePodsWithAffinityList returns nothing: the topology plugins never ask.
func (m NodeInfoMap) HavePodsWithAffinityList() ([]fwk.NodeInfo, error) { return nil, nil }

// HavePodsWithRequiredAntiAffinityList returns nothing: the topology plugins never ask.
func (m NodeInfoMap) HavePodsWithRequiredAntiAffinityList() ([]fwk.NodeInfo, error) {
	return nil, nil
}

// Get returns a node by name.
func (m NodeInfoMap) Get(name string) (fwk.NodeInfo, error) {
	if n, ok := m[name]; ok {
		return n, nil
	}
	return nil, fmt.Errorf("node %q not found", name)
}
