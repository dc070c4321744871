package explain

import (
	"context"
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/explanation"
)

// explainPlacement runs the profile's filters on every node and its score
// plugins on the nodes the scheduler scored, in the pod's cycle state.
func (pl *Explain) explainPlacement(ctx context.Context, state fwk.CycleState, assumed *v1.Pod, nodeName string) (*explanation.Explanation, error) {
	// Reserve is handed the pod as assumed on its node; the filters saw it
	// without one (NodeName would turn every other node away).
	unassumed := *assumed
	unassumed.Spec.NodeName = ""
	pod := &unassumed
	nodes, err := pl.handle.SnapshotSharedLister().NodeInfos().List()
	if err != nil {
		return nil, err
	}
	statuses := make([]*fwk.Status, len(nodes))
	pl.handle.Parallelizer().Until(ctx, len(nodes), func(i int) {
		statuses[i] = pl.handle.RunFilterPlugins(ctx, state, pod, nodes[i])
	}, Name)
	exp := &explanation.Explanation{Profile: pod.Spec.SchedulerName, Node: nodeName, Nodes: len(nodes)}
	exp.Rejected = rejections(len(nodes), func(i int) (string, *fwk.Status) { return nodes[i].Node().Name, statuses[i] })
	for _, s := range statuses {
		if s.IsSuccess() {
			exp.Feasible++
		}
	}
	d, err := state.Read(scoredKey)
	if err != nil {
		// One node passed the filters: the scheduler took it unscored.
		return exp, nil
	}
	candidates := d.(*scored).nodes
	exp.Scored = len(candidates)
	scores, st := pl.handle.RunScorePlugins(ctx, state, pod, candidates)
	if !st.IsSuccess() {
		return nil, st.AsError()
	}
	ranked := pl.nodeScores(scores)
	for i := range ranked {
		if ranked[i].Node == nodeName {
			exp.Chosen = &ranked[i]
			break
		}
	}
	for i := 0; i < len(ranked) && len(exp.NextBest) < pl.nextBest; i++ {
		if ranked[i].Node != nodeName {
			exp.NextBest = append(exp.NextBest, ranked[i])
		}
	}
	return exp, nil
}

// nodeScores turns the framework's weighted scores into NodeScores with
// the raw scores beside them, best first (ties by name: the scheduler
// breaks them at random, which is why the chosen node is named apart).
func (pl *Explain) nodeScores(scores []framework.NodePluginScores) []explanation.NodeScore {
	weights := pl.weights()
	out := make([]explanation.NodeScore, len(scores))
	for i, s := range scores {
		n := explanation.NodeScore{Node: s.Name, Total: s.TotalScore, Plugins: make([]explanation.PluginScore, len(s.Scores))}
		for j, p := range s.Scores {
			w := max(weights[p.Name], 1)
			n.Plugins[j] = explanation.PluginScore{Plugin: p.Name, Raw: p.Score / int64(w), Weight: w, Score: p.Score}
		}
		out[i] = n
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Node < out[j].Node
	})
	return out
}

// explainFailure summarises the verdicts of the cycle that found no node.
func (pl *Explain) explainFailure(pod *v1.Pod, statuses framework.NodeToStatusReader) (*explanation.Explanation, error) {
	nodes, err := pl.handle.SnapshotSharedLister().NodeInfos().List()
	if err != nil {
		return nil, err
	}
	exp := &explanation.Explanation{Profile: pod.Spec.SchedulerName, Nodes: len(nodes)}
	exp.Rejected = rejections(len(nodes), func(i int) (string, *fwk.Status) {
		name := nodes[i].Node().Name
		return name, statuses.Get(name)
	})
	return exp, nil
}

// prefilterPlugin names the rejections whose status carries no plugin: the
// nodes a PreFilter plugin's node list left out.
const prefilterPlugin = "PreFilter"

// rejections counts the rejected nodes per plugin, with the first node by
// name as the example, most rejections first.
func rejections(n int, verdict func(int) (string, *fwk.Status)) []explanation.Rejection {
	byPlugin := map[string]*explanation.Rejection{}
	for i := 0; i < n; i++ {
		node, s := verdict(i)
		if s.IsSuccess() {
			continue
		}
		plugin := s.Plugin()
		if plugin == "" {
			plugin = prefilterPlugin
		}
		r, ok := byPlugin[plugin]
		if !ok {
			r = &explanation.Rejection{Plugin: plugin}
			byPlugin[plugin] = r
		}
		r.Nodes++
		if r.Example == "" || node < r.Example {
			r.Example, r.Reason = node, reason(s)
		}
	}
	out := make([]explanation.Rejection, 0, len(byPlugin))
	for _, r := range byPlugin {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Nodes != out[j].Nodes {
			return out[i].Nodes > out[j].Nodes
		}
		return out[i].Plugin < out[j].Plugin
	})
	return out
}

func reason(s *fwk.Status) string {
	if rs := s.Reasons(); len(rs) > 0 {
		return strings.Join(rs, "; ")
	}
	if err := s.AsError(); err != nil {
		return err.Error()
	}
	return fmt.Sprintf("status %s", s.Code())
}
