package zonespread

import (
	"context"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/plugins/internal/state"
	"github.com/placer-dev/placer/pkg/plugins/internal/topology"
)

const preScoreStateKey fwk.StateKey = "PreScore" + Name

type preScoreState struct {
	// counts[i] maps each domain of constraint i to the workload's replicas there.
	counts []map[string]int
	// base weighs the keys lexicographically: any difference at a wider key
	// outweighs every difference at the narrower ones.
	base int64
}

func (s *preScoreState) Clone() fwk.StateData { return s }

// PreScore computes the workload's per-domain counts for every key once.
func (pl *ZoneSpread) PreScore(_ context.Context, state fwk.CycleState, pod *v1.Pod, _ []fwk.NodeInfo) *fwk.Status {
	w, ok := pl.applies(pod)
	if !ok {
		return fwk.NewStatus(fwk.Skip)
	}
	perNode := pl.perNode(w)
	total := 0
	for _, n := range perNode {
		total += n
	}
	s := &preScoreState{counts: make([]map[string]int, len(pl.constraints)), base: int64(total) + 2}
	for i := range pl.constraints {
		s.counts[i] = pl.index.DomainCounts(i, perNode)
	}
	state.Write(preScoreStateKey, s)
	return nil
}

// Score is a load, lower is better, turned around by NormalizeScore:
// the replicas in the node's domain of the first key, then of the next, each
// key outweighing all that follow. A node without a key's label counts as
// the most loaded there.
func (pl *ZoneSpread) Score(_ context.Context, cycle fwk.CycleState, _ *v1.Pod, nodeInfo fwk.NodeInfo) (int64, *fwk.Status) {
	s, err := state.Read[*preScoreState](cycle, preScoreStateKey)
	if err != nil {
		return 0, fwk.AsStatus(err)
	}
	node := nodeInfo.Node()
	var load int64
	for i, con := range pl.constraints {
		n := s.base - 1
		if v, ok := topology.DomainOfNode(node, con.key); ok {
			n = int64(s.counts[i][v])
		}
		load = load*s.base + n
	}
	return load, nil
}

// ScoreExtensions normalises loads to scores.
func (pl *ZoneSpread) ScoreExtensions() framework.ScoreExtensions { return pl }

// NormalizeScore maps the least loaded node to MaxNodeScore and the most
// loaded to 0, linearly; equal loads all score MaxNodeScore.
func (pl *ZoneSpread) NormalizeScore(_ context.Context, _ fwk.CycleState, _ *v1.Pod, scores framework.NodeScoreList) *fwk.Status {
	if len(scores) == 0 {
		return nil
	}
	lo, hi := scores[0].Score, scores[0].Score
	for _, s := range scores {
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	for i := range scores {
		if hi == lo {
			scores[i].Score = framework.MaxNodeScore
			continue
		}
		scores[i].Score = framework.MaxNodeScore * (hi - scores[i].Score) / (hi - lo)
	}
	return nil
}

// Reserve counts the pod where it is about to be bound, so that the next
// cycle sees it before the informer does.
func (pl *ZoneSpread) Reserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	pl.place(pod, nodeName)
	return nil
}

// Unreserve takes back what Reserve counted when binding does not happen.
func (pl *ZoneSpread) Unreserve(_ context.Context, _ fwk.CycleState, pod *v1.Pod, nodeName string) {
	at := func(r replica) bool { return r.node == nodeName }
	pl.pods.RemoveIf(pod.UID, at)
	pl.owned.RemoveIf(pod.UID, at)
}
