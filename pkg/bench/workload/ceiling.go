package workload

import (
	"fmt"
	"maps"
	"slices"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/placer-dev/placer/pkg/bench/limits"
)

// validateCountCeilings refuses any count above limits.MaxCount: replicas
// would wrap around in the int32 fields of the objects the run makes, and
// other counts size loops and slices. A count that came from a param says
// which, and whether --set gave it.
func (f *File) validateCountCeilings() field.ErrorList {
	var errs field.ErrorList
	counts := f.counts()
	for _, p := range slices.Sorted(maps.Keys(counts)) {
		c := counts[p]
		if c.Value <= limits.MaxCount {
			continue
		}
		detail := fmt.Sprintf("more than %d, the most any count may be (Kubernetes counts are 32-bit)", int64(limits.MaxCount))
		if c.Param != "" {
			from := "$" + c.Param
			if f.setByFlag[c.Param] {
				from = fmt.Sprintf("--set %s=%d", c.Param, c.Value)
			}
			detail += " (from " + from + ")"
		}
		errs = append(errs, field.Invalid(field.NewPath(p), c.Value, detail))
	}
	return errs
}

// DefaultNodePods is a node's pod capacity when its group gives none
// (kubelet's default).
const DefaultNodePods = 110

// podSlots is how many pods each node of the group holds: its pods
// capacity, or kubelet's default.
func (g NodeGroup) podSlots() int64 {
	if q, ok := g.Capacity[v1.ResourcePods]; ok {
		return max(q.Value(), 0)
	}
	return DefaultNodePods
}

// Objects adds up the nodes and, at their peak, the pods a run of the file
// makes: every node group; each workload's count times its replicas, or
// the largest replica count a scale op gives it; each fillToFailure's
// maxPods, or one more than the nodes have pod slots for, since it stops
// at the first pod that does not fit; the pods of other schedulers a group's
// occupied puts on its nodes. Churn and rolling updates replace pods one for
// one and add none. It is an upper bound (a delete op is not subtracted), which is
// what a ceiling needs.
func (f *File) Objects() limits.Total {
	var t limits.Total
	var slots int64
	for i, g := range f.Cluster.NodeGroups {
		t.AddNodes(fmt.Sprintf("cluster.nodeGroups[%d].count", i), int64(g.Count.Value))
		slots = limits.Add(slots, limits.Mul(int64(g.Count.Value), g.podSlots()))
		if g.Occupied != nil {
			t.AddPods(fmt.Sprintf("cluster.nodeGroups[%d].count × occupied.pods", i), limits.Mul(int64(g.Count.Value), int64(g.Occupied.Pods)))
		}
	}
	peak := map[string]struct {
		path     string
		replicas int
	}{}
	for i, w := range f.Workloads {
		peak[w.Name] = struct {
			path     string
			replicas int
		}{fmt.Sprintf("workloads[%d].replicas", i), w.Replicas.Value}
	}
	for i, op := range f.Ops {
		switch op.Op {
		case OpScale:
			if p, ok := peak[op.Workload]; ok && op.Replicas.Value > p.replicas {
				p.path, p.replicas = fmt.Sprintf("ops[%d].replicas", i), op.Replicas.Value
				peak[op.Workload] = p
			}
		case OpFillToFailure:
			if n := int64(op.MaxPods.Value); n <= slots {
				t.AddPods(fmt.Sprintf("ops[%d].maxPods", i), n)
			} else {
				t.AddPods(fmt.Sprintf("ops[%d] (the nodes' pod slots, and one more)", i), limits.Add(slots, 1))
			}
		}
	}
	for i, w := range f.Workloads {
		p := peak[w.Name]
		t.AddPods(fmt.Sprintf("workloads[%d].count × %s", i, p.path), limits.Mul(int64(w.Count.Value), int64(p.replicas)))
	}
	return t
}
