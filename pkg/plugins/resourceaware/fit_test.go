package resourceaware

import (
	"math"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/placer-dev/placer/pkg/apis/config"
)

func TestFitStrategies(t *testing.T) {
	cpuMem := []config.ResourcePolicy{
		{Name: "cpu", Strategy: config.MostAllocated, Weight: 1},
		{Name: "memory", Strategy: config.MostAllocated, Weight: 1},
	}
	// Node: 8 cpu, 32Gi; 6 cpu and 8Gi requested -> free cpu 0.25, memory 0.75.
	node := makeNode(rl("cpu", "8", "memory", "32Gi"))
	existing := makePod("existing", rl("cpu", "6", "memory", "8Gi"))
	memHeavy := makePod("p", rl("cpu", "1", "memory", "16Gi"))
	cpuHeavy := makePod("q", rl("cpu", "2", "memory", "1Gi"))
	cases := []struct {
		name     string
		strategy config.FitStrategy
		pod      *v1.Pod
		want     float64
	}{
		// After: cpu free 1/8, memory free 8/32=0.25 -> stranded 0.125 -> 87.5.
		{"least stranded, memory-heavy pod evens the node", config.LeastStranded, memHeavy, 87.5},
		// After: cpu free 0, memory free 23/32 -> stranded 0.71875 -> 28.125.
		{"least stranded, cpu-heavy pod strands memory", config.LeastStranded, cpuHeavy, 28.125},
		// d = (1/8, 0.5), f = (0.25, 0.75): cos = (0.03125+0.375)/(|d||f|).
		{"alignment, memory-heavy pod", config.Alignment, memHeavy,
			100 * (0.125*0.25 + 0.5*0.75) / (math.Hypot(0.125, 0.5) * math.Hypot(0.25, 0.75))},
		// d = (0.25, 1/32).
		{"alignment, cpu-heavy pod", config.Alignment, cpuHeavy,
			100 * (0.25*0.25 + 1.0/32*0.75) / (math.Hypot(0.25, 1.0/32) * math.Hypot(0.25, 0.75))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pl := plugin(t, cpuMem...)
			pl.fit = &fitScorer{strategy: tc.strategy, weight: 1}
			s := pl.preScore(tc.pod)
			ni := nodeInfo(node, existing)
			var allocs, reqs []int64
			for _, r := range pl.resources {
				a, q := nodeAmounts(ni, r.name, true)
				allocs, reqs = append(allocs, a), append(reqs, q)
			}
			got, ok := pl.fit.score(allocs, reqs, s.requests)
			if !ok || math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("fit = %v (applies %v), want %v", got, ok, tc.want)
			}
		})
	}
}

func TestFitPrefersTheNodeItEvensOut(t *testing.T) {
	// Two nodes with the same total use but opposite shapes; the memory-heavy
	// pod should go where memory is free, whatever the per-resource strategies say.
	pl := plugin(t,
		config.ResourcePolicy{Name: "cpu", Strategy: config.MostAllocated, Weight: 1},
		config.ResourcePolicy{Name: "memory", Strategy: config.MostAllocated, Weight: 1})
	pl.fit = &fitScorer{strategy: config.LeastStranded, weight: 2}
	cpuBusy := nodeInfo(makeNode(rl("cpu", "8", "memory", "32Gi")), makePod("a", rl("cpu", "6", "memory", "8Gi")))
	memBusy := nodeInfo(makeNode(rl("cpu", "8", "memory", "32Gi")), makePod("b", rl("cpu", "2", "memory", "24Gi")))
	pod := makePod("p", rl("cpu", "1", "memory", "12Gi"))
	if a, b := score(t, pl, pod, cpuBusy), score(t, pl, pod, memBusy); a <= b {
		t.Errorf("memory-heavy pod scores %d on the cpu-busy node and %d on the memory-busy one; want the cpu-busy node higher", a, b)
	}
}

func TestFitDoesNotApplyWithoutResources(t *testing.T) {
	if _, ok := leastStranded([]int64{0, 0}, []int64{0, 0}, []int64{1, 1}); ok {
		t.Error("leastStranded applied on a node with nothing allocatable")
	}
	if _, ok := alignment([]int64{4, 4}, []int64{0, 0}, []int64{0, 0}); ok {
		t.Error("alignment applied to a pod requesting nothing")
	}
	if s, ok := alignment([]int64{4, 4}, []int64{4, 4}, []int64{1, 1}); !ok || s != 0 {
		t.Errorf("alignment on a full node = %v, %v; want 0, true", s, ok)
	}
}
