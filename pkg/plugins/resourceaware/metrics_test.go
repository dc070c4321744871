package resourceaware

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
	"github.com/placer-dev/placer/pkg/plugins/internal/topology"
)

// TestFilterCountsRejectionsByResource: one count per node rejected, under
// the resource whose ceiling it would cross; passing nodes count nothing.
func TestFilterCountsRejectionsByResource(t *testing.T) {
	registerMetrics()
	pl := plugin(t, guarded("cpu", 50), guarded("memory", 50))
	cpuBefore, memBefore := plugintest.CounterValue(t, filterRejections, "cpu"), plugintest.CounterValue(t, filterRejections, "memory")

	pod := makePod("p", rl("cpu", "3", "memory", "1Gi"))
	full := nodeInfo(makeNode(rl("cpu", "4", "memory", "16Gi")))                                        // cpu 75%
	alsoFull := nodeInfo(makeNode(rl("cpu", "8", "memory", "16Gi")), makePod("m", rl("memory", "8Gi"))) // memory 56%
	roomy := nodeInfo(makeNode(rl("cpu", "8", "memory", "16Gi")))
	for _, ni := range []*framework.NodeInfo{full, alsoFull, roomy} {
		filter(t, pl, pod, ni)
	}
	if got := plugintest.CounterValue(t, filterRejections, "cpu") - cpuBefore; got != 1 {
		t.Errorf("cpu rejections grew by %v, want 1", got)
	}
	if got := plugintest.CounterValue(t, filterRejections, "memory") - memBefore; got != 1 {
		t.Errorf("memory rejections grew by %v, want 1", got)
	}
}

// TestScarcePlacementsCounted: a pod that needs no GPU is counted once bound,
// by whether its node has GPUs; GPU pods, and placements that never reach
// PostBind, are not counted.
func TestScarcePlacementsCounted(t *testing.T) {
	registerMetrics()
	pl, err := newWithArgs(&config.ResourceAwareArgs{
		Resources:       []config.ResourcePolicy{{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1}},
		ScarceResources: &config.ScarceResourcePolicy{Resources: []string{string(gpu)}, Weight: 5},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gpuNode, cpuNode := makeNode(rl("cpu", "8", string(gpu), "4")), makeNode(rl("cpu", "8"))
	gpuNode.Name, cpuNode.Name = "gpu", "cpu"
	pl.nodeInfos = topology.NodeInfoMap{"gpu": nodeInfo(gpuNode), "cpu": nodeInfo(cpuNode)}

	// place runs Reserve and, if bound, PostBind, as the framework would; the
	// state has no PreScore data, as when a single node was feasible.
	place := func(pod *v1.Pod, node string, bound bool) {
		state := framework.NewCycleState()
		if st := pl.Reserve(context.Background(), state, pod, node); !st.IsSuccess() {
			t.Fatalf("Reserve: %v", st)
		}
		if bound {
			pl.PostBind(context.Background(), state, pod, node)
		} else {
			pl.Unreserve(context.Background(), state, pod, node)
		}
	}
	scarceBefore, otherBefore := plugintest.CounterValue(t, scarcePlacements, "scarce_node"), plugintest.CounterValue(t, scarcePlacements, "other_node")
	cpuPod := makePod("c", rl("cpu", "1"))
	place(cpuPod, "gpu", true)
	place(cpuPod, "cpu", true)
	place(cpuPod, "cpu", true)
	place(cpuPod, "gpu", false)
	place(makePod("g", rl("cpu", "1", string(gpu), "1")), "gpu", true)

	if got := plugintest.CounterValue(t, scarcePlacements, "scarce_node") - scarceBefore; got != 1 {
		t.Errorf("scarce_node grew by %v, want 1", got)
	}
	if got := plugintest.CounterValue(t, scarcePlacements, "other_node") - otherBefore; got != 2 {
		t.Errorf("other_node grew by %v, want 2", got)
	}
}
