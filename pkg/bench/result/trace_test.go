package result

import (
	"strings"
	"testing"
)

func replayResult(profile string, arrived, unallocated []float64, placed, failed map[string]int) *Result {
	tr := &TraceResult{GPUSharing: "whole", GPUCapacityMilli: 1000, PodsOffered: len(arrived), Placed: placed, Failed: failed,
		ArrivedPercent: arrived, UnallocatedPercent: unallocated}
	tr.Finish()
	return &Result{Profile: profile, Trace: tr}
}

// The table reports the levels every run reached, the first point at or
// past each, and the pods by shape.
func TestTraceFigures(t *testing.T) {
	runs := [][]*Result{
		{replayResult("default", []float64{50, 95, 100, 131}, []float64{50, 8, 7, 5}, map[string]int{"gpu-1": 3}, map[string]int{"share": 1}),
			replayResult("default", []float64{60, 100, 112, 130}, []float64{40, 9, 8, 6}, map[string]int{"gpu-1": 4}, nil)},
		{replayResult("placer", []float64{90, 105, 120}, []float64{10, 9, 9.5}, map[string]int{"gpu-1": 3}, nil),
			replayResult("placer", []float64{90, 105, 130}, []float64{12, 10, 9}, map[string]int{"gpu-1": 3}, nil)},
	}
	if got := runs[0][0].Trace.UnallocatedGPUAt; got["90"] != 8 || got["100"] != 7 || got["110"] != 5 || got["130"] != 5 {
		t.Errorf("points %v", got)
	}
	byName := map[string]Figure{}
	var names []string
	for _, f := range Compare(runs) {
		if f.Section == "trace" {
			byName[f.Name] = f
			names = append(names, f.Name)
		}
	}
	// One placer run stopped short of 130%: no row for it.
	want := "unallocated GPU at 90% arrived (%)|unallocated GPU at 100% arrived (%)|unallocated GPU at 110% arrived (%)|pods offered|GPU-sharing pods (offered: whole GPU)|  placed, gpu-1|  failed, gpu-1|  placed, share|  failed, share"
	if strings.Join(names, "|") != want {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(names, "|"), want)
	}
	if f := byName["unallocated GPU at 100% arrived (%)"]; f.Profiles[0].Interval.Median != 8 || f.Profiles[1].Interval.Median != 9.5 {
		t.Errorf("medians at 100%%: %+v", f.Profiles)
	}
	if f := byName["  failed, share"]; f.Profiles[0].Runs[0] != 1 || f.Profiles[0].Runs[1] != 0 {
		t.Errorf("failed sharing pods %+v", f.Profiles[0].Runs)
	}
}

// A timeline replay whose pods left before a verdict says so in a row of
// its own; one without has no such row.
func TestTraceFiguresNoVerdict(t *testing.T) {
	fast := replayResult("default", []float64{100}, []float64{90}, map[string]int{"gpu-1": 1}, nil)
	fast.Trace.NoVerdict = map[string]int{"gpu-1": 4, "share": 2}
	calm := replayResult("placer", []float64{100}, []float64{90}, map[string]int{"gpu-1": 1}, nil)
	var got []float64
	for _, f := range Compare([][]*Result{{fast}, {calm}}) {
		if f.Name == "pods gone before a verdict" {
			got = []float64{f.Profiles[0].Runs[0], f.Profiles[1].Runs[0]}
		}
	}
	if len(got) != 2 || got[0] != 6 || got[1] != 0 {
		t.Errorf("pods gone before a verdict: %v, want [6 0]", got)
	}
	for _, f := range Compare([][]*Result{{calm}}) {
		if f.Name == "pods gone before a verdict" {
			t.Error("a row for a replay where every pod had a verdict")
		}
	}
}

// With gpuSharing "share" the table says so, and counts the sharing pods
// bound without a device in a row of their own.
func TestTraceFiguresShare(t *testing.T) {
	run := func(profile string, without int) *Result {
		r := replayResult(profile, []float64{100}, []float64{90}, map[string]int{"share": 4}, nil)
		r.Trace.GPUSharing, r.Trace.SharingPods, r.Trace.SharedWithoutDevice = GPUSharingShare, 4, without
		return r
	}
	var names []string
	var without []float64
	for _, f := range Compare([][]*Result{{run("default", 4)}, {run("placer", 0)}}) {
		names = append(names, f.Name)
		if f.Name == "  bound without a device (no GPU allocated)" {
			without = []float64{f.Profiles[0].Runs[0], f.Profiles[1].Runs[0]}
		}
	}
	if !strings.Contains(strings.Join(names, "|"), "|GPU-sharing pods (offered: share of a GPU)|  bound without a device (no GPU allocated)|") {
		t.Errorf("rows %q: want the share rows", names)
	}
	if len(without) != 2 || without[0] != 4 || without[1] != 0 {
		t.Errorf("bound without a device: %v, want [4 0]", without)
	}
}
