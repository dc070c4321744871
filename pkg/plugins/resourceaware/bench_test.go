package resourceaware

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	fwk "k8s.io/kube-scheduler/framework"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/noderesources"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/plugins/internal/pluginbench"
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

	fit := upstreamFit(b)
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
		{"NodeResourcesFit", fit},
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

// BenchmarkFilterScoreGPU is the cost per node of placing a GPU pod with
// the device accounting and the fragmentation score on, beside
// NodeResourcesFit placing a pod of one whole GPU on the same nodes: 1000
// nodes of 8 devices, each holding shares and whole GPUs, and a mix of 150
// shapes seen (about what Alibaba's GPU trace has). The incoming pod asks
// for a share of 470, the trace's most common share but one.
func BenchmarkFilterScoreGPU(b *testing.B) {
	defaults, err := DefaultArgs()
	if err != nil {
		b.Fatal(err)
	}
	ra := mustPlugin(b, defaults)
	nodes := make([]fwk.NodeInfo, 1000)
	for i := range nodes {
		n := makeNode(rl("cpu", "96", "memory", "384Gi", "pods", "110", string(gpu), "8"))
		n.Name = fmt.Sprintf("gpu-%d", i)
		whole := makePod(fmt.Sprintf("n%d-whole", i), rl("cpu", "12", "memory", "32Gi", string(gpu), fmt.Sprint(i%4)))
		nodes[i] = nodeInfo(n, whole)
		for j := range i % 5 {
			ra.ledger.add(types.UID(fmt.Sprintf("n%d-s%d", i, j)), podDevices{node: n.Name, devices: []int{7 - j%3}, milli: int64(110 * (j + 1))})
		}
	}
	g := ra.gpu
	for s := range 150 {
		p := makePod(fmt.Sprintf("seen-%d", s), rl("cpu", fmt.Sprint(2+s%14), "memory", fmt.Sprintf("%dGi", 4+s%9)))
		if s%3 == 0 {
			p.Spec.Containers[0].Resources.Requests[gpu] = *resourceQuantity(int64(1 + s%2))
		} else {
			p.Annotations = map[string]string{g.shareAnnotation: fmt.Sprint(50 + (s*37)%900)}
		}
		ra.mix.observe(g, ra.requests, p)
	}
	share := makePod("incoming-share", rl("cpu", "6", "memory", "12Gi"))
	share.Annotations = map[string]string{g.shareAnnotation: "470"}
	whole := makePod("incoming-whole", rl("cpu", "6", "memory", "12Gi", string(gpu), "1"))

	fit := upstreamFit(b)
	b.Run("NodeResourcesFit-whole", func(b *testing.B) { pluginbench.RunCycle(b, fit, whole, nodes) })
	b.Run("ResourceAware-whole", func(b *testing.B) { pluginbench.RunCycle(b, ra, whole, nodes) })
	b.Run("ResourceAware-share", func(b *testing.B) { pluginbench.RunCycle(b, ra, share, nodes) })
}

// upstreamFit is upstream's NodeResourcesFit as its defaults configure it
// (LeastAllocated over cpu and memory), the plugin ResourceAware is
// measured against.
func upstreamFit(b *testing.B) filterScorer {
	fit, err := noderesources.NewFit(context.Background(), &schedconfig.NodeResourcesFitArgs{
		ScoringStrategy: &schedconfig.ScoringStrategy{
			Type:      schedconfig.LeastAllocated,
			Resources: []schedconfig.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}},
		},
	}, nil, feature.Features{})
	if err != nil {
		b.Fatal(err)
	}
	return fit.(filterScorer)
}
