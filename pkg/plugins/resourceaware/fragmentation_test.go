package resourceaware

import (
	"context"
	"fmt"
	"math"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/gpushare"
)

// F by hand, from the formula in fragmentation.go:
// F = Σ_m p_m · (once_m + many_m), many_m = total − k_m·g_m.
func TestFragmentationByHand(t *testing.T) {
	// Two shapes, equally likely: a share of 500, and a whole GPU with 4 cpus.
	table := &mixTable{shapes: []mixShape{
		{share: 500, p: 0.5},
		{whole: 1, cpu: 4000, p: 0.5},
	}}
	// The node's devices have 1000 and 300 free: total 1300.
	devs := []int64{1000, 300}
	for _, tc := range []struct {
		name string
		cpu  int64
		want float64
	}{
		// share 500: the 300 device cannot take one, once = 300; k = 1000/500
		// = 2 pods of 500, many = 1300 − 1000 = 300. 0.5 · 600 = 300.
		// whole 1: one device entirely free, once = 1300 − 1000 = 300;
		// k = min(1 by devices, 8000/4000 = 2 by cpu) = 1, many = 1300 − 1000
		// = 300. 0.5 · 600 = 300. F = 600.
		{"cpu to spare", 8000, 600},
		// With 2 cpus free the whole-GPU shape fits no more (k = 0): all
		// 1300 is unusable to it, once = 1300, many = 1300 − 0 = 1300,
		// 0.5 · 2600 = 1300. The share shape asks for no cpu: 300 as
		// before. F = 1600.
		{"cpu short for the whole-GPU shape", 2000, 1600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := table.fragmentation(nodeFree{cpu: tc.cpu, mem: 1 << 40}, "", devs)
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("F = %g, want %g", got, tc.want)
			}
		})
	}
	// A shape asking for another model can use none of the node's GPU: its
	// once and many are both the total. 1 · (1300 + 1300) = 2600.
	other := &mixTable{shapes: []mixShape{{share: 500, models: []string{"A100"}, p: 1}}}
	if got := other.fragmentation(nodeFree{cpu: 8000, mem: 1 << 40}, "T4", devs); got != 2600 {
		t.Errorf("F for a shape of another model = %g, want 2600", got)
	}
}

// delta tries the share on each device and keeps the one that raises F
// least, which need not be the fullest one best fit would take.
func TestDeltaChoosesTheLeastFragmentingDevice(t *testing.T) {
	// Pods to come ask for 500.
	table := &mixTable{shapes: []mixShape{{share: 500, p: 1}}}
	v := &devices{n: 2}
	v.free[0], v.free[1] = 600, 1000
	// Before: [600, 1000], once 0, k = 1 + 2 = 3, many = 1600 − 1500 = 100: F = 100.
	// 400 on device 0: [200, 1000], once 200, k = 2, many = 1200 − 1000 = 200:
	// F = 400, ΔF = 300.
	// 400 on device 1: [600, 600], once 0, k = 2, many = 200: F = 200, ΔF = 100.
	d, j, ok := table.delta(nodeFree{cpu: 8000, mem: 1 << 40}, "", v, podShape{gpu: gpuDemand{share: 400}})
	if !ok || j != 1 || math.Abs(d-100) > 1e-9 {
		t.Errorf("delta = %g on device %d (ok %v), want 100 on device 1", d, j, ok)
	}
	// A share no device has room for.
	full := &devices{n: 2}
	full.free[0], full.free[1] = 600, 300
	if _, j, ok := table.delta(nodeFree{cpu: 8000, mem: 1 << 40}, "", full, podShape{gpu: gpuDemand{share: 700}}); ok || j != -1 {
		t.Errorf("share 700 on devices with 600 and 300 free: device %d, ok %v; want not ok, device -1", j, ok)
	}

	// Reserve chooses the same way. On the same devices (a 400 bound on
	// device 0), without the score a 400 goes to the fullest device, 0;
	// with pods of 500 seen, to device 1.
	node := gpuNode("n", "2", "")
	held := boundTo(sharePod("held", "400"), "n", "0")
	plain := sharingPlugin(t, false, []*v1.Node{node}, held)
	addEvents(plain, held)
	if got := reservedDevices(t, reserve(t, plain, sharePod("p", "400"), "n")); got != "0" {
		t.Fatalf("without fragmentation Reserve chose %q, want 0 (best fit)", got)
	}
	pl := sharingPlugin(t, true, []*v1.Node{node}, held)
	addEvents(pl, held)
	for i := range 9 {
		addEvents(pl, sharePod(fmt.Sprintf("pending-%d", i), "500")) // seen, not bound
	}
	// Mix: 500 with p 0.9, 400 (the bound pod) with 0.1. F before: 0.1 · 400
	// + 0.9 · 100 = 130. Device 0, [200, 1000]: 0.1 · 600 + 0.9 · 400 = 420,
	// ΔF 290. Device 1, [600, 600]: 0.1 · 400 + 0.9 · 200 = 220, ΔF 90.
	if got := reservedDevices(t, reserve(t, pl, sharePod("p", "400"), "n")); got != "1" {
		t.Errorf("with pods of 500 seen, Reserve chose %q, want 1", got)
	}
}

// When ΔF differs between the nodes, it orders them: the node with the
// least ΔF scores MaxNodeScore, whatever the rest of the score says.
func TestScoreRanksNodesByFragmentation(t *testing.T) {
	// One GPU each: fills holds 100 (free 900), fuller holds 400 (free 600).
	fills, fuller := gpuNode("fills", "1", ""), gpuNode("fuller", "1", "")
	held := []*v1.Pod{boundTo(sharePod("a", "100"), "fills", "0"), boundTo(sharePod("b", "400"), "fuller", "0")}
	nodes := []*v1.Node{fills, fuller}
	pod := sharePod("p", "400")

	scores := func(pl *ResourceAware) map[string]int64 {
		t.Helper()
		infos := []fwk.NodeInfo{nodeInfo(fills, held[0]), nodeInfo(fuller, held[1])}
		state := framework.NewCycleState()
		if st := pl.PreScore(context.Background(), state, pod, infos); !st.IsSuccess() {
			t.Fatal(st)
		}
		out := map[string]int64{}
		for _, ni := range infos {
			s, st := pl.Score(context.Background(), state, pod, ni)
			if !st.IsSuccess() {
				t.Fatal(st)
			}
			out[ni.Node().Name] = s
		}
		return out
	}

	// Without the score, packing GPUs prefers fuller: 80% used after, not 50%.
	plain := sharingPlugin(t, false, nodes, held...)
	addEvents(plain, held...)
	if s := scores(plain); s["fuller"] <= s["fills"] {
		t.Fatalf("without fragmentation: scores %v, want fuller above fills (the case relies on it)", s)
	}

	// Mix: 500 with p 0.8 (pending pods), 100 and 400 (the bound ones)
	// with 0.1 each. fills [900] → [500]: F 330 → 10 (the 500s strand 400
	// before, nothing after), ΔF −320. fuller [600] → [200]: F 100 → 360
	// (no 500 or 400 fits any more), ΔF +260.
	pl := sharingPlugin(t, true, nodes, held...)
	for i := range 8 {
		addEvents(pl, sharePod(fmt.Sprintf("pending-%d", i), "500"))
	}
	addEvents(pl, held...)
	s := scores(pl)
	if s["fills"] != framework.MaxNodeScore || s["fuller"] >= s["fills"] {
		t.Errorf("scores %v, want fills at %d (least ΔF) and fuller below", s, framework.MaxNodeScore)
	}
}

// The mix weighs each shape by its pods over its per-device GPU to the
// power 2.5: two shares of 500 against one whole GPU give 2/500^2.5 and
// 1/1000^2.5, that is 2·2^2.5 = 8√2 to 1; a pod of eight whole GPUs weighs
// as one of a single GPU, since both take whole devices. A pod that asks
// for no GPU is not counted.
func TestMixWeighsShapesByPodsPerDeviceGPU(t *testing.T) {
	g := newGPUSharing(&config.GPUSharingPolicy{Enabled: true, Resource: string(gpu), ShareAnnotation: gpushare.ShareAnnotation,
		DeviceAnnotation: gpushare.DeviceAnnotation, ModelsAnnotation: gpushare.ModelsAnnotation, ModelLabel: gpushare.ModelLabel})
	mix := newPodMix()
	if mix.current() != nil {
		t.Fatal("a mix that has seen no GPU pod has a table")
	}
	share := func(name string) *v1.Pod {
		p := makePod(name, rl("cpu", "1"))
		p.Annotations = map[string]string{gpushare.ShareAnnotation: "500"}
		return p
	}
	mix.observe(g, requestOptions{}, share("a"))
	mix.observe(g, requestOptions{}, share("b"))
	mix.observe(g, requestOptions{}, makePod("whole", rl("cpu", "1", string(gpu), "1")))
	mix.observe(g, requestOptions{}, makePod("eight", rl("cpu", "2", string(gpu), "8")))
	mix.observe(g, requestOptions{}, makePod("cpu-only", rl("cpu", "1")))
	table := mix.current()
	if table == nil || len(table.shapes) != 3 {
		t.Fatalf("table = %+v, want three shapes", table)
	}
	shares := 8 * math.Sqrt2
	for _, s := range table.shapes {
		want := 1 / (shares + 2)
		if s.share == 500 {
			want = shares / (shares + 2)
		}
		if math.Abs(s.p-want) > 1e-9 {
			t.Errorf("shape %+v: p = %g, want %g", s, s.p, want)
		}
	}
}
