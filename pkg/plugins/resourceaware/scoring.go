package resourceaware

import (
	"cmp"
	"context"
	"math"
	"slices"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/placemath"
)

const preScoreStateKey fwk.StateKey = "PreScore" + Name

// resourceScorer is one configured resource with its strategy resolved.
type resourceScorer struct {
	name     v1.ResourceName
	weight   int64
	score    scoreFunc
	extended bool
}

func newResourceScorer(r config.ResourcePolicy) resourceScorer {
	name := v1.ResourceName(r.Name)
	return resourceScorer{name: name, weight: r.Weight, score: strategyFunc(r), extended: isExtended(name)}
}

// preScoreState is what Score needs of the pod, computed once per cycle.
type preScoreState struct {
	// requests holds the pod's request for each configured resource, with the
	// scheduler's non-zero defaults for cpu and memory.
	requests []int64
	// unrequestedScarce are the scarce resources the pod does not ask for:
	// nodes that have any of them score lower. Empty: no steering.
	unrequestedScarce []v1.ResourceName
	// gpu is the pod's GPU demand when the device accounting is on;
	// gpuIndex the position of the device resource in the configured
	// resources (-1: not scored by devices).
	gpu      gpuDemand
	gpuIndex int
	// devices holds, for the cycle's nodes with GPU devices, their use in
	// milli-GPU (shares included, which NodeInfo does not count).
	devices map[string]nodeDevicesScore
	// ranks, when the fragmentation score orders the cycle's nodes, is
	// each node's score: see rankByFragmentation.
	ranks map[string]int64
}

// nodeDevicesScore is one node's device use for Score.
type nodeDevicesScore struct {
	usedMilli, capacityMilli int64
}

func (s *preScoreState) Clone() fwk.StateData { return s }

// PreScore computes the pod's request vector over the configured resources
// and, when the device accounting is on, the nodes' device use and the
// fragmentation score, which is scaled over the cycle's nodes.
func (pl *ResourceAware) PreScore(_ context.Context, state fwk.CycleState, pod *v1.Pod, nodes []fwk.NodeInfo) *fwk.Status {
	s := pl.preScore(pod)
	if pl.gpu != nil {
		pl.preScoreDevices(s, pod, nodes)
	}
	state.Write(preScoreStateKey, s)
	return nil
}

func (pl *ResourceAware) preScore(pod *v1.Pod) *preScoreState {
	reqs := pl.requests.podRequests(pod, true)
	s := &preScoreState{requests: make([]int64, len(pl.resources)), gpuIndex: -1}
	if pl.gpu != nil {
		// An unreadable demand was refused in PreFilter.
		s.gpu, _ = pl.gpu.demand(pod, pl.requests)
	}
	for i, r := range pl.resources {
		s.requests[i] = amount(reqs, r.name)
		if pl.gpu != nil && r.name == pl.gpu.resource && !s.gpu.none() {
			s.gpuIndex = i
		}
	}
	for _, name := range pl.scarce {
		sharesIt := pl.gpu != nil && name == pl.gpu.resource && s.gpu.share > 0
		if amount(reqs, name) == 0 && !sharesIt {
			s.unrequestedScarce = append(s.unrequestedScarce, name)
		}
	}
	return s
}

// preScoreDevices reads each node's devices once, for the device
// resource's utilisation and the fragmentation score.
func (pl *ResourceAware) preScoreDevices(s *preScoreState, pod *v1.Pod, nodes []fwk.NodeInfo) {
	table := pl.mix.current()
	if s.gpuIndex < 0 && table == nil {
		return
	}
	s.devices = make(map[string]nodeDevicesScore, len(nodes)/4)
	var deltas []float64
	if table != nil {
		deltas = make([]float64, len(nodes))
	}
	shape := pl.podShape(pod, s.gpu)
	for i, ni := range nodes {
		v := pl.ledger.view(ni, pl.gpu.resource)
		if v.n == 0 {
			continue
		}
		ds := nodeDevicesScore{capacityMilli: int64(v.n) * milliPerDevice}
		for _, f := range v.free[:v.n] {
			ds.usedMilli += milliPerDevice - f
		}
		s.devices[ni.Node().Name] = ds
		if table != nil {
			if d, _, ok := table.delta(pl.nodeFree(ni), pl.gpu.modelOf(ni), &v, shape); ok {
				deltas[i] = d
			}
		}
	}
	if table != nil {
		pl.rankByFragmentation(s, nodes, deltas)
	}
}

func (pl *ResourceAware) readPreScore(state fwk.CycleState, pod *v1.Pod) *preScoreState {
	if c, err := state.Read(preScoreStateKey); err == nil {
		if s, ok := c.(*preScoreState); ok {
			return s
		}
	}
	// Callers that skip PreScore (some tests and simulators do) still get a
	// correct score.
	return pl.preScore(pod)
}

// fragTolerance: fragmentation changes closer than this, in milli-GPU,
// are equal.
const fragTolerance = 1e-6

// rankByFragmentation orders the nodes by ΔF, least first, and nodes of
// equal ΔF by the weighted mean of the other components; the first scores
// MaxNodeScore, each next distinct place one less. A rank, not ΔF scaled
// to the score range: the score is an integer, and scaling would round
// the small differences that separate the best nodes into ties the
// scheduler breaks at random (on the Alibaba trace, about 1.7 times the
// unallocated GPU: README.md). When every node has the same ΔF the pod fragments nothing
// wherever it goes, and the ordinary weighted mean scores the nodes.
func (pl *ResourceAware) rankByFragmentation(s *preScoreState, nodes []fwk.NodeInfo, deltas []float64) {
	lo, hi := slices.Min(deltas), slices.Max(deltas)
	if hi-lo <= fragTolerance {
		return
	}
	type keyed struct {
		name        string
		delta, rest float64
	}
	ks := make([]keyed, len(nodes))
	for i, ni := range nodes {
		rest, _ := pl.weightedMean(s, ni)
		ks[i] = keyed{name: ni.Node().Name, delta: deltas[i], rest: rest}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if math.Abs(a.delta-b.delta) > fragTolerance {
			return cmp.Compare(a.delta, b.delta)
		}
		return cmp.Compare(b.rest, a.rest)
	})
	s.ranks = make(map[string]int64, len(ks))
	rank := int64(0)
	for i, k := range ks {
		if i > 0 && (math.Abs(k.delta-ks[i-1].delta) > fragTolerance || k.rest != ks[i-1].rest) {
			rank++
		}
		s.ranks[k.name] = max(framework.MaxNodeScore-rank, framework.MinNodeScore)
	}
}

// Score is the node's rank by fragmentation when that orders the cycle's
// nodes (rankByFragmentation), and otherwise the weighted mean of the
// components that apply on this node:
//   - each configured resource the node has, by its strategy; an extended
//     resource the pod does not ask for is left out (a CPU-only pod's score
//     must not depend on how busy a node's GPUs are);
//   - the fit of the pod's request vector to the node's free vector, if set;
//   - the scarce-resource steering, if the pod leaves a scarce resource unrequested.
func (pl *ResourceAware) Score(_ context.Context, state fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	s := pl.readPreScore(state, pod)
	return pl.nodeScore(s, nodeInfo), nil
}

// maxInlineResources bounds the per-node scratch space kept on the stack;
// more resources than this still work, with a heap allocation.
const maxInlineResources = 8

func (pl *ResourceAware) nodeScore(s *preScoreState, nodeInfo fwk.NodeInfo) int64 {
	if s.ranks != nil {
		return s.ranks[nodeInfo.Node().Name]
	}
	mean, ok := pl.weightedMean(s, nodeInfo)
	if !ok {
		return 0
	}
	score := int64(math.Round(mean))
	return min(max(score, framework.MinNodeScore), framework.MaxNodeScore)
}

// weightedMean is the weighted mean of the score components that apply on
// the node; false when none does.
func (pl *ResourceAware) weightedMean(s *preScoreState, nodeInfo fwk.NodeInfo) (float64, bool) {
	var sum float64
	var weights int64
	var allocBuf, reqBuf [maxInlineResources]int64
	allocs, reqs := allocBuf[:0], reqBuf[:0]
	for i, r := range pl.resources {
		alloc, requested := nodeAmounts(nodeInfo, r.name, true)
		allocs, reqs = append(allocs, alloc), append(reqs, requested)
		if i == s.gpuIndex {
			// Devices in use, shares included, which NodeInfo does not count.
			if ds, ok := s.devices[nodeInfo.Node().Name]; ok {
				util := placemath.Utilization(ds.usedMilli+s.gpu.milli(), ds.capacityMilli)
				sum += float64(r.weight) * r.score(util)
				weights += r.weight
			}
			continue
		}
		if alloc <= 0 || (r.extended && s.requests[i] == 0) {
			continue
		}
		util := placemath.Utilization(addSaturating(requested, s.requests[i]), alloc)
		sum += float64(r.weight) * r.score(util)
		weights += r.weight
	}
	if pl.fit != nil {
		if fs, ok := pl.fit.score(allocs, reqs, s.requests); ok {
			sum += float64(pl.fit.weight) * fs
			weights += pl.fit.weight
		}
	}
	if len(s.unrequestedScarce) > 0 {
		sum += float64(pl.scarceWeight) * scarceScore(nodeInfo, s.unrequestedScarce)
		weights += pl.scarceWeight
	}
	if weights == 0 {
		return 0, false
	}
	return sum / float64(weights), true
}

// scarceScore is 0 on a node that has any of the scarce resources the pod
// does not ask for, MaxNodeScore elsewhere.
func scarceScore(nodeInfo fwk.NodeInfo, unrequested []v1.ResourceName) float64 {
	scalars := nodeInfo.GetAllocatable().GetScalarResources()
	for _, name := range unrequested {
		if scalars[name] > 0 {
			return 0
		}
	}
	return maxScore
}

// ScoreExtensions returns nil: scores are already in [0, MaxNodeScore].
func (pl *ResourceAware) ScoreExtensions() framework.ScoreExtensions { return nil }
