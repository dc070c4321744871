package resourceaware

import (
	"context"
	"math"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
)

const gpu v1.ResourceName = "nvidia.com/gpu"

func makeNode(alloc v1.ResourceList) *v1.Node {
	return &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Status: v1.NodeStatus{Allocatable: alloc, Capacity: alloc}}
}

func makePod(name string, req v1.ResourceList) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: k8stypes.UID("uid-" + name)},
		Spec:       v1.PodSpec{Containers: []v1.Container{{Name: "c", Resources: v1.ResourceRequirements{Requests: req}}}},
	}
}

// rl is short for plugintest.Resources: most tests here write several.
var rl = plugintest.Resources

func nodeInfo(node *v1.Node, pods ...*v1.Pod) *framework.NodeInfo {
	ni := framework.NewNodeInfo(pods...)
	ni.SetNode(node)
	return ni
}

func plugin(t *testing.T, resources ...config.ResourcePolicy) *ResourceAware {
	t.Helper()
	pl, err := newWithArgs(&config.ResourceAwareArgs{Resources: resources}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

func score(t *testing.T, pl *ResourceAware, pod *v1.Pod, ni *framework.NodeInfo) int64 {
	t.Helper()
	state := framework.NewCycleState()
	if st := pl.PreScore(context.Background(), state, pod, nil); !st.IsSuccess() {
		t.Fatal(st)
	}
	s, st := pl.Score(context.Background(), state, pod, ni)
	if !st.IsSuccess() {
		t.Fatal(st)
	}
	if s < framework.MinNodeScore || s > framework.MaxNodeScore {
		t.Fatalf("score %d out of range", s)
	}
	return s
}

func TestScoreStrategies(t *testing.T) {
	shape := []config.UtilizationShapePoint{{Utilization: 0, Score: 0}, {Utilization: 50, Score: 10}, {Utilization: 100, Score: 0}}
	node := makeNode(rl("cpu", "4", "memory", "8Gi", "pods", "10", string(gpu), "8"))
	existing := makePod("existing", rl("cpu", "1", "memory", "2Gi", string(gpu), "2"))
	cases := []struct {
		name      string
		resources []config.ResourcePolicy
		pod       *v1.Pod
		want      int64
	}{
		// cpu after placement: 1 + 1 = 2 of 4 -> 50% used.
		{"least cpu", []config.ResourcePolicy{{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1}},
			makePod("p", rl("cpu", "1")), 50},
		{"most cpu", []config.ResourcePolicy{{Name: "cpu", Strategy: config.MostAllocated, Weight: 1}},
			makePod("p", rl("cpu", "2")), 75},
		// memory 2Gi + 2Gi of 8Gi = 50% -> top of the shape, 10 -> 100.
		{"shape peak", []config.ResourcePolicy{{Name: "memory", Strategy: config.RequestedToCapacityRatio, Weight: 1, Shape: shape}},
			makePod("p", rl("cpu", "1", "memory", "2Gi")), 100},
		// memory 2Gi + 1Gi of 8Gi = 37.5% -> 7.5 of 10 -> 75.
		{"shape interpolated", []config.ResourcePolicy{{Name: "memory", Strategy: config.RequestedToCapacityRatio, Weight: 1, Shape: shape}},
			makePod("p", rl("cpu", "1", "memory", "1Gi")), 75},
		// gpu (2+2)/8 = 50% most -> 50, weight 3; cpu (1+1)/4 least -> 50;
		// memory (2+2)/8 least -> 50: 50 overall.
		{"weighted mean", []config.ResourcePolicy{
			{Name: string(gpu), Strategy: config.MostAllocated, Weight: 3},
			{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1},
			{Name: "memory", Strategy: config.LeastAllocated, Weight: 1}},
			makePod("p", rl("cpu", "1", "memory", "2Gi", string(gpu), "2")), 50},
		// gpu (2+6)/8 -> most 100 (w3); cpu (1+1)/4 -> least 50 (w1): (300+50)/4 = 87.5 -> 88.
		{"weights favour gpu", []config.ResourcePolicy{
			{Name: string(gpu), Strategy: config.MostAllocated, Weight: 3},
			{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1}},
			makePod("p", rl("cpu", "1", string(gpu), "6")), 88},
		// A pod that asks for no GPU is scored on cpu alone: GPU business is not its concern.
		{"extended resource not requested is skipped", []config.ResourcePolicy{
			{Name: string(gpu), Strategy: config.MostAllocated, Weight: 3},
			{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1}},
			makePod("p", rl("cpu", "1")), 50},
		// Pods: 1 existing + this one of 10 -> 20% used -> least 80.
		{"pods resource", []config.ResourcePolicy{{Name: "pods", Strategy: config.LeastAllocated, Weight: 1}},
			makePod("p", rl("cpu", "1")), 80},
		// No cpu or memory requests: the scheduler's non-zero defaults apply,
		// 100m cpu: (1000+100)/4000 used -> least 72.5 -> 73 (rounded half away from zero).
		{"no requests use non-zero defaults", []config.ResourcePolicy{{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1}},
			makePod("p", nil), 73},
		// Requests beyond allocatable clamp to full.
		{"over-requested clamps", []config.ResourcePolicy{{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1}},
			makePod("p", rl("cpu", "10")), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pl := plugin(t, tc.resources...)
			if got := score(t, pl, tc.pod, nodeInfo(node, existing)); got != tc.want {
				t.Errorf("score = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestScoreNodeWithoutTheResource(t *testing.T) {
	pl := plugin(t,
		config.ResourcePolicy{Name: string(gpu), Strategy: config.MostAllocated, Weight: 5},
		config.ResourcePolicy{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1})
	// Zero allocatable for everything: nothing counts, score 0 and no division by zero.
	empty := makeNode(rl("cpu", "0", "memory", "0"))
	if got := score(t, pl, makePod("p", rl("cpu", "1")), nodeInfo(empty)); got != 0 {
		t.Errorf("score on a node with nothing allocatable = %d, want 0", got)
	}
	// A GPU pod on a node without GPUs (the fit filter would reject it; the
	// score must still be sane): only cpu counts.
	cpuOnly := makeNode(rl("cpu", "4", "memory", "8Gi"))
	if got := score(t, pl, makePod("p", rl("cpu", "1", string(gpu), "1")), nodeInfo(cpuOnly)); got != 75 {
		t.Errorf("score = %d, want 75 from cpu alone", got)
	}
}

func TestScoreHugeFiguresDoNotOverflow(t *testing.T) {
	pl := plugin(t,
		config.ResourcePolicy{Name: "memory", Strategy: config.MostAllocated, Weight: 100},
		config.ResourcePolicy{Name: "ephemeral-storage", Strategy: config.LeastAllocated, Weight: 100})
	huge := *resource.NewQuantity(math.MaxInt64/2, resource.BinarySI)
	node := makeNode(v1.ResourceList{v1.ResourceMemory: huge, v1.ResourceEphemeralStorage: huge, v1.ResourceCPU: resource.MustParse("4")})
	existing := makePod("existing", v1.ResourceList{v1.ResourceMemory: huge, v1.ResourceEphemeralStorage: huge})
	pod := makePod("p", v1.ResourceList{v1.ResourceMemory: huge, v1.ResourceEphemeralStorage: huge})
	// Both resources are over-full (sum beyond MaxInt64 saturates): most -> 100, least -> 0.
	if got := score(t, pl, pod, nodeInfo(node, existing)); got != 50 {
		t.Errorf("score = %d, want 50", got)
	}
}

func TestScoreWithoutPreScore(t *testing.T) {
	pl := plugin(t, config.ResourcePolicy{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1})
	node := makeNode(rl("cpu", "4"))
	pod := makePod("p", rl("cpu", "1"))
	got, st := pl.Score(context.Background(), framework.NewCycleState(), pod, nodeInfo(node))
	if !st.IsSuccess() || got != 75 {
		t.Errorf("Score without PreScore = %d, %v; want 75", got, st)
	}
}

func TestNewRejectsBadArgsAndAcceptsNil(t *testing.T) {
	_, err := New(context.Background(), &config.ResourceAwareArgs{Resources: []config.ResourcePolicy{{Name: "cpu", Strategy: "x", Weight: 1}}}, nil)
	if err == nil {
		t.Fatal("New accepted an unknown strategy")
	}
	pl, err := New(context.Background(), nil, nil)
	if err != nil {
		t.Fatalf("New(nil args): %v", err)
	}
	if n := len(pl.(*ResourceAware).resources); n != 3 {
		t.Errorf("default args score %d resources, want 3", n)
	}
}

func TestScarceSteering(t *testing.T) {
	resources := []config.ResourcePolicy{
		{Name: string(gpu), Strategy: config.MostAllocated, Weight: 5},
		{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1},
	}
	pl, err := newWithArgs(&config.ResourceAwareArgs{Resources: resources,
		ScarceResources: &config.ScarceResourcePolicy{Resources: []string{string(gpu)}, Weight: 5}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	gpuNode := nodeInfo(makeNode(rl("cpu", "8", string(gpu), "4")))
	cpuNode := nodeInfo(makeNode(rl("cpu", "8")), makePod("busy", rl("cpu", "6")))
	cpuPod := makePod("p", rl("cpu", "1"))
	// GPU node: cpu least (1/8 used) 87.5 w1, scarce 0 w5 -> 87.5/6 = 14.6 -> 15.
	if got := score(t, pl, cpuPod, gpuNode); got != 15 {
		t.Errorf("cpu pod on GPU node = %d, want 15", got)
	}
	// Busy cpu node: cpu least (7/8 used) 12.5 w1, scarce 100 w5 -> 512.5/6 = 85.4 -> 85.
	if got := score(t, pl, cpuPod, cpuNode); got != 85 {
		t.Errorf("cpu pod on busy cpu node = %d, want 85", got)
	}
	// A GPU pod is not steered: gpu most (1 of 4) 25 w5, cpu least 87.5 w1,
	// no scarce component -> (125 + 87.5)/6 = 35.4 -> 35.
	gpuPod := makePod("g", rl("cpu", "1", string(gpu), "1"))
	if got := score(t, pl, gpuPod, gpuNode); got != 35 {
		t.Errorf("gpu pod on GPU node = %d, want 35", got)
	}
}

func resourceQuantity(n int64) *resource.Quantity { return resource.NewQuantity(n, resource.DecimalSI) }
