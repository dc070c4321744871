package zonespread

import (
	"context"
	"fmt"
	"maps"

	v1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"
	"github.com/placer-dev/placer/pkg/plugins/internal/state"
	"github.com/placer-dev/placer/pkg/plugins/internal/topology"
)

const preFilterStateKey fwk.StateKey = "PreFilter" + Name

// hardState is one hard constraint's view of the workload for this cycle.
type hardState struct {
	constraint int            // index into ZoneSpread.constraints
	counts     map[string]int // domain -> replicas of the workload
	// min is the fewest replicas in a domain that can take the pod, and
	// minDomain that domain; active is false when no domain can, or no node
	// carries the key, and the bound then does not apply.
	min       int
	minDomain string
	active    bool
	// Filter's reasons, written once here: Filter runs for thousands of
	// nodes a cycle and rejects most of them in a skewed zone, and
	// formatting a message per node was most of its cost. Only domains that
	// hold replicas can exceed the bound, so overSkew has a few keys.
	overSkew     map[string]string // domain -> why it is rejected
	missingLabel string
}

type preFilterState struct {
	workload workload // whose skew is bounded: the pod's own controller
	hard     []hardState
	feas     *topology.Feasibility
}

// Clone copies the counts, which AddPod and RemovePod change, so that
// preemption's what-ifs leave the cycle's own state alone.
func (s *preFilterState) Clone() fwk.StateData {
	c := *s
	c.hard = make([]hardState, len(s.hard))
	for i, h := range s.hard {
		h.counts = maps.Clone(h.counts)
		c.hard[i] = h
	}
	return &c
}

// PreFilter turns the workload's per-node counts (kept incrementally) into
// per-domain counts and finds, for each hard constraint, the smallest count
// among domains that can take the pod. Domains are probed in ascending order
// of count and the probe stops at the first node that could take the pod, so
// the work is about the number of domains, not nodes.
func (pl *ZoneSpread) PreFilter(_ context.Context, state fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) (*framework.PreFilterResult, *fwk.Status) {
	w, d := pl.classify(pod)
	if d != "" {
		attempts.WithLabelValues(string(d)).Inc()
		return nil, fwk.NewStatus(fwk.Skip)
	}
	s := &preFilterState{workload: pl.bound(pod, w)}
	bound := pl.boundPlaced(s.workload, w)
	for i, c := range pl.constraints {
		if c.maxSkew == 0 {
			continue
		}
		if s.feas == nil {
			s.feas = topology.NewFeasibility(pod)
		}
		h := hardState{constraint: i, counts: pl.index.DomainCounts(i, bound.perNode)}
		pl.evaluate(&h, s.workload, s.feas)
		s.hard = append(s.hard, h)
	}
	if len(s.hard) == 0 {
		attempts.WithLabelValues(string(decisionScoreOnly)).Inc()
		return nil, fwk.NewStatus(fwk.Skip)
	}
	d = decisionBoundWaived
	for _, h := range s.hard {
		if h.active {
			d = decisionSpread
			break
		}
	}
	attempts.WithLabelValues(string(d)).Inc()
	state.Write(preFilterStateKey, s)
	return pl.narrow(s, pod, bound), nil
}

// narrow returns, when a hard constraint leaves the pod exactly one domain,
// that domain's nodes as the cycle's PreFilterResult, so that the framework
// never evaluates the nodes of the over-skewed domains. Without it, each of
// them went through every default filter before ZoneSpread turned it away,
// and the framework walked up to three times as many nodes to find its quota
// of feasible ones. With two domains or more left it returns nil: their union
// would be a copy of most of the cluster's node names every cycle, which costs
// more than it saves.
//
// Nodes left out of a PreFilterResult are never preemption candidates. That
// loses nothing only while preemption could not make an over-skewed domain
// acceptable, which it could only by evicting replicas of the bound workload
// itself: so nothing is narrowed when one of them has a lower priority than
// the pod.
func (pl *ZoneSpread) narrow(s *preFilterState, pod *v1.Pod, bound placed) *framework.PreFilterResult {
	if corev1helpers.PodPriority(pod) > bound.minPriority {
		return nil
	}
	for _, h := range s.hard {
		// Domains lists every node of a hostname key: count first.
		if !h.active || len(h.overSkew) == 0 || pl.index.NumDomains(h.constraint)-len(h.overSkew) != 1 {
			continue
		}
		var left []string
		for _, d := range pl.index.Domains(h.constraint) {
			if _, over := h.overSkew[d]; !over {
				left = append(left, d)
			}
		}
		if len(left) == 1 {
			return &framework.PreFilterResult{NodeNames: pl.index.DomainNodes(h.constraint, left[0])}
		}
	}
	return nil
}

// evaluate finds the constraint's effective minimum from its counts and
// writes Filter's reasons.
func (pl *ZoneSpread) evaluate(h *hardState, w workload, feas *topology.Feasibility) {
	c := pl.constraints[h.constraint]
	h.min, h.minDomain, h.active = pl.index.EffectiveMin(h.constraint, h.counts, pl.nodeInfos, feas)
	h.overSkew, h.missingLabel = nil, ""
	if !h.active {
		return
	}
	h.missingLabel = fmt.Sprintf("node has no %s label, which ZoneSpread spreads %s over", c.key, w)
	for value, n := range h.counts {
		if after := n + 1; after-h.min > c.maxSkew {
			if h.overSkew == nil {
				h.overSkew = map[string]string{}
			}
			h.overSkew[value] = fmt.Sprintf("%s=%s would hold %d replicas of %s against %d in %s (maxSkew %d)",
				c.key, value, after, w, h.min, h.minDomain, c.maxSkew)
		}
	}
}

// PreFilterExtensions lets preemption see what removing a victim of the same
// workload, or adding a nominated replica, does to the counts: update
// counts a replica of the pod's workload in or out.
func (pl *ZoneSpread) PreFilterExtensions() framework.PreFilterExtensions {
	return pluginkit.Recount(pl.update)
}

func (pl *ZoneSpread) update(cycle fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo, delta int) *fwk.Status {
	s, err := state.Read[*preFilterState](cycle, preFilterStateKey)
	if err != nil {
		return fwk.AsStatus(err)
	}
	node := nodeInfo.Node()
	if own, ok := ownerOf(pod); !ok || own != s.workload || !counted(pod) || node == nil {
		return nil
	}
	for i := range s.hard {
		h := &s.hard[i]
		value, ok := topology.DomainOfNode(node, pl.constraints[h.constraint].key)
		if !ok {
			continue
		}
		h.counts[value] = max(0, h.counts[value]+delta)
		pl.evaluate(h, s.workload, s.feas)
	}
	return nil
}

// Filter enforces maxSkew: with the pod placed, its domain may hold at most
// maxSkew more replicas than the emptiest domain that can take the pod.
func (pl *ZoneSpread) Filter(_ context.Context, cycle fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) *fwk.Status {
	s, err := state.Read[*preFilterState](cycle, preFilterStateKey)
	if err != nil {
		return fwk.AsStatus(err)
	}
	node := nodeInfo.Node()
	for _, h := range s.hard {
		if !h.active {
			continue
		}
		con := pl.constraints[h.constraint]
		value, ok := topology.DomainOfNode(node, con.key)
		if !ok {
			pl.rejectedMissingLabel.Inc()
			return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, h.missingLabel)
		}
		if reason, over := h.overSkew[value]; over {
			pl.rejectedMaxSkew.Inc()
			return fwk.NewStatus(fwk.Unschedulable, reason)
		}
	}
	return nil
}

// EventsToRegister lists what can let a pod ZoneSpread rejected fit, each
// with a hint that requeues the pod only when the event can help: a replica
// of the workload it is bounded by placed or removed (counts move), a node
// added, removed, or changed in its labels, cordon, taints or allocatable
// (domains appear, vanish, or can take the pod or not).
func (pl *ZoneSpread) EventsToRegister(_ context.Context) ([]fwk.ClusterEventWithHint, error) {
	keys := make([]string, len(pl.constraints))
	for i, c := range pl.constraints {
		keys[i] = c.key
	}
	holds := func(p *v1.Pod) bool { return topology.Placed(p) && counted(p) }
	return []fwk.ClusterEventWithHint{
		{Event: fwk.ClusterEvent{Resource: fwk.Pod, ActionType: fwk.All}, QueueingHintFn: topology.PodHint(ownerOf, holds)},
		{Event: fwk.ClusterEvent{Resource: fwk.Node, ActionType: fwk.All}, QueueingHintFn: topology.NodeHint(keys)},
	}, nil
}
