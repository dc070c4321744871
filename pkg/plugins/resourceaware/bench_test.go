package resourceaware

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/noderesources"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/apis/config"
)

// benchNodes makes n nodes of three shapes, every third with GPUs, each
// carrying a few pods, as a cluster in mid-life looks.
func benchNodes(n int) []fwk.NodeInfo {
	out := make([]fwk.NodeInfo, n)
	for i := range out {
		alloc := rl("cpu", fmt.Sprint(8<<(i%3)), "memory", fmt.Sprintf("%dGi", 32<<(i%3)), "pods", "110")
		if i%3 == 0 {
			alloc[gpu] = *resourceQuantity(8)
		}
		var pods []*v1.Pod
		for j := range 5 {
			pods = append(pods, makePod(fmt.Sprintf("n%d-p%d", i, j), rl("cpu", "500m", "memory", "1Gi")))
		}
		out[i] = nodeInfo(makeNode(alloc), pods...)
	}
	return out
}

// pluginsUnderTest are the filter+score plugins compared per node.
type filterScorer interface {
	framework.PreFilterPlugin
	framework.FilterPlugin
	framework.PreScorePlugin
	framework.ScorePlugin
}

// BenchmarkFilterScore measures the per-node cost of Filter plus Score, the
// part that runs once per node per scheduling cycle, after the once-per-cycle
// PreFilter and PreScore. Run it with make bench-plugins.
func BenchmarkFilterScore(b *testing.B) {
	nodes := benchNodes(1000)
	pod := makePod("incoming", rl("cpu", "1", "memory", "2Gi"))

	fit, err := noderesources.NewFit(context.Background(), &schedconfig.NodeResourcesFitArgs{
		ScoringStrategy: &schedconfig.ScoringStrategy{
			Type:      schedconfig.LeastAllocated,
			Resources: []schedconfig.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}},
		},
	}, nil, feature.Features{})
	if err != nil {
		b.Fatal(err)
	}
	defaults, err := DefaultArgs()
	if err != nil {
		b.Fatal(err)
	}
	full := defaults.DeepCopy()
	full.Resources[1].MaxRequestedPercent = ptr.To[int32](90)
	full.Resources[2].MaxRequestedPercent = ptr.To[int32](90)
	full.Fit = &config.FitPolicy{Strategy: config.LeastStranded, Weight: 2}

	cases := []struct {
		name string
		pl   filterScorer
	}{
		{"NodeResourcesFit", fit.(filterScorer)},
		{"ResourceAware-defaults", mustPlugin(b, defaults)},
		{"ResourceAware-ceilings-fit", mustPlugin(b, full)},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				state := framework.NewCycleState()
				_, pre := tc.pl.PreFilter(ctx, state, pod, nodes)
				tc.pl.PreScore(ctx, state, pod, nodes)
				for _, ni := range nodes {
					if !pre.IsSkip() {
						tc.pl.Filter(ctx, state, pod, ni)
					}
					tc.pl.Score(ctx, state, pod, ni)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(nodes)), "ns/node")
		})
	}
}

func mustPlugin(b *testing.B, args *config.ResourceAwareArgs) *ResourceAware {
	pl, err := newWithArgs(args, nil)
	if err != nil {
		b.Fatal(err)
	}
	return pl
}
