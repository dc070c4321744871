package resourceaware

import (
	"context"
	"math"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
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

// preScoreState holds the pod's request for each configured resource,
// computed once per cycle so that Score does no map lookups on the pod.
type preScoreState struct {
	requests []int64
}

func (s *preScoreState) Clone() fwk.StateData { return s }

// PreScore computes the pod's request vector over the configured resources.
func (pl *ResourceAware) PreScore(_ context.Context, state fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) *fwk.Status {
	state.Write(preScoreStateKey, pl.preScore(pod))
	return nil
}

func (pl *ResourceAware) preScore(pod *v1.Pod) *preScoreState {
	reqs := pl.requests.podRequests(pod, true)
	s := &preScoreState{requests: make([]int64, len(pl.resources))}
	for i, r := range pl.resources {
		s.requests[i] = amount(reqs, r.name)
	}
	return s
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

// Score is the weighted mean of the per-resource scores over the resources
// that count on this node: a resource the node does not have is left out, and
// so is an extended resource the pod does not ask for (a CPU-only pod's score
// must not depend on how busy a node's GPUs are).
func (pl *ResourceAware) Score(_ context.Context, state fwk.CycleState, pod *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	s := pl.readPreScore(state, pod)
	return pl.nodeScore(s.requests, nodeInfo), nil
}

func (pl *ResourceAware) nodeScore(podRequests []int64, nodeInfo fwk.NodeInfo) int64 {
	var sum float64
	var weights int64
	for i, r := range pl.resources {
		if r.extended && podRequests[i] == 0 {
			continue
		}
		alloc, requested := nodeAmounts(nodeInfo, r.name, true)
		if alloc <= 0 {
			continue
		}
		util := utilization(addSaturating(requested, podRequests[i]), alloc)
		sum += float64(r.weight) * r.score(util)
		weights += r.weight
	}
	if weights == 0 {
		return 0
	}
	score := int64(math.Round(sum / float64(weights)))
	return min(max(score, framework.MinNodeScore), framework.MaxNodeScore)
}

// ScoreExtensions returns nil: scores are already in [0, MaxNodeScore].
func (pl *ResourceAware) ScoreExtensions() framework.ScoreExtensions { return nil }
