package resourceaware

import (
	"context"
	"math"

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
	// devices holds, for the cycle's nodes with GPU devices, what Score
	// needs of them (computed once here, where the ledger is read).
	devices map[string]nodeDevicesScore
	// fragZero is the fragmentation score of a node where the pod changes
	// nothing (a node without GPUs); fragOn whether the score applies.
	fragZero float64
	fragOn   bool
}

// nodeDevicesScore is one node's device figures for Score.
type nodeDevicesScore struct {
	usedMilli, capacityMilli int64
	frag                     float64
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

// preScoreDevices reads each node's devices once, for the device resource's
// utilisation and the fragmentation score.
func (pl *ResourceAware) preScoreDevices(s *preScoreState, pod *v1.Pod, nodes []fwk.NodeInfo) {
	table := pl.mix.current()
	if s.gpuIndex < 0 && table == nil {
		return
	}
	var shape podShape
	if table != nil {
		shape = pl.podShape(pod, s.gpu)
	}
	s.devices = make(map[string]nodeDevicesScore, len(nodes)/4)
	lo, hi := math.Inf(1), math.Inf(-1)
	sawZero := false
	for _, ni := range nodes {
		v := pl.ledger.view(ni, pl.gpu.resource)
		if v.n == 0 {
			sawZero = true
			continue
		}
		ds := nodeDevicesScore{capacityMilli: int64(v.n) * milliPerDevice}
		for _, f := range v.free[:v.n] {
			ds.usedMilli += milliPerDevice - f
		}
		if table != nil {
			if d, _, ok := table.delta(pl.nodeFree(ni), pl.gpu.modelOf(ni), &v, shape); ok {
				ds.frag = d
				lo, hi = min(lo, d), max(hi, d)
			}
		}
		s.devices[ni.Node().Name] = ds
	}
	if sawZero {
		lo, hi = min(lo, 0), max(hi, 0)
	}
	if table == nil || !(hi > lo) {
		return // every node alike: the score would change no ranking
	}
	// The least increase of fragmentation scores MaxNodeScore.
	scale := func(d float64) float64 { return (hi - d) / (hi - lo) * maxScore }
	for name, ds := range s.devices {
		ds.frag = scale(ds.frag)
		s.devices[name] = ds
	}
	s.fragZero, s.fragOn = scale(0), true
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

// Score is the weighted mean of the components that apply on this node:
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
	if s.fragOn {
		frag := s.fragZero
		if ds, ok := s.devices[nodeInfo.Node().Name]; ok {
			frag = ds.frag
		}
		sum += float64(pl.fragWeight) * frag
		weights += pl.fragWeight
	}
	if len(s.unrequestedScarce) > 0 {
		sum += float64(pl.scarceWeight) * scarceScore(nodeInfo, s.unrequestedScarce)
		weights += pl.scarceWeight
	}
	if weights == 0 {
		return 0
	}
	score := int64(math.Round(sum / float64(weights)))
	return min(max(score, framework.MinNodeScore), framework.MaxNodeScore)
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
