// Package pluginbench runs a plugin's scheduling cycle in a Go benchmark,
// for the benchmarks that compare Placer's plugins with the upstream
// plugins they replace (make bench-plugins).
package pluginbench

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
)

// FilterScorer is a plugin with both halves of a cycle.
type FilterScorer interface {
	framework.PreFilterPlugin
	framework.FilterPlugin
	framework.PreScorePlugin
	framework.ScorePlugin
}

// RunCycle runs PreFilter and PreScore once, then Filter on every node and
// Score on every node that passes, as the scheduler does (each skipped when
// its pre-phase says so), and reports the
// cost per node. It fails when no node passes: a benchmark of rejections
// alone would measure the wrong thing.
func RunCycle(b *testing.B, pl FilterScorer, pod *v1.Pod, nodes []fwk.NodeInfo) {
	ctx := context.Background()
	b.ReportAllocs()
	feasible := 0
	for b.Loop() {
		state := framework.NewCycleState()
		_, pre := pl.PreFilter(ctx, state, pod, nodes)
		if !pre.IsSuccess() && !pre.IsSkip() {
			b.Fatal(pre)
		}
		preScore := pl.PreScore(ctx, state, pod, nodes)
		if !preScore.IsSuccess() && !preScore.IsSkip() {
			b.Fatal(preScore)
		}
		feasible = 0
		for _, ni := range nodes {
			if !pre.IsSkip() && !pl.Filter(ctx, state, pod, ni).IsSuccess() {
				continue
			}
			feasible++
			if preScore.IsSkip() {
				continue
			}
			if _, st := pl.Score(ctx, state, pod, ni); !st.IsSuccess() {
				b.Fatal(st)
			}
		}
	}
	if feasible == 0 {
		b.Fatal("no node passed Filter")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(nodes)), "ns/node")
}
