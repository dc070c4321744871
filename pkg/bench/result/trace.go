package result

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// TraceResult is what one replay of a trace measured: the FGD paper's
// metric, unallocated GPU against arrived workload, and the pods placed
// and failed by shape (docs/traces.md).
type TraceResult struct {
	Trace    string `json:"trace"`
	Protocol string `json:"protocol"`
	// Seed drew the pods (fgd); TargetPercent is where the draw stopped;
	// Speed divides the trace's times (timeline).
	Seed          *int64  `json:"seed,omitempty"`
	TargetPercent float64 `json:"targetPercent,omitempty"`
	Speed         float64 `json:"speed,omitempty"`
	// GPUSharing says how pods asking for part of a GPU were offered:
	// "whole" (each asked for a whole nvidia.com/gpu) or "share" (each
	// asked for its share with the annotation placer.dev/gpu-milli and no
	// nvidia.com/gpu).
	GPUSharing       string `json:"gpuSharing"`
	Nodes            int    `json:"nodes"`
	GPUCapacityMilli int64  `json:"gpuCapacityMilli"`
	PodsOffered      int    `json:"podsOffered"`
	SharingPods      int    `json:"sharingPods"`
	// SharedWithoutDevice ("share") counts the sharing pods bound without
	// the device annotation (placer.dev/gpu-device): a profile that cannot
	// share placed them as pods asking for no GPU, so they are placed but
	// hold no GPU, and their shares count as unallocated. Always 0 with
	// "whole".
	SharedWithoutDevice int `json:"sharedWithoutDevice"`
	// DeviceAnnotationError describes the first device annotation that
	// named no single device of its node (that pod counts as without a
	// device): a fault of the profile's.
	DeviceAnnotationError string `json:"deviceAnnotationError,omitempty"`
	// Placed and Failed count pods by shape: "cpu-only", "share",
	// "gpu-<n>". Failed pods were found unschedulable (fgd: then removed;
	// timeline: still pending at the end).
	Placed map[string]int `json:"placed"`
	Failed map[string]int `json:"failed"`
	// NoVerdict (timeline) counts pods that departed, or were still
	// waiting at the end, before the scheduler decided on them: the replay
	// outpaced the scheduler (lower --speed).
	NoVerdict map[string]int `json:"noVerdict,omitempty"`
	// The curve, one point after each pod: ArrivedPercent is the GPU all
	// pods so far asked for, UnallocatedPercent 100 minus the GPU the bound
	// pods asked for, both as % of capacity in milli-GPU (the paper's
	// accounting: with gpuSharing "whole", the rest of a device a sharing
	// pod holds is idle, so it counts as unallocated; with "share", a
	// sharing pod's share counts only with its device named).
	ArrivedPercent     []float64 `json:"arrivedPercent"`
	UnallocatedPercent []float64 `json:"unallocatedPercent"`
	// UnallocatedGPUAt is the curve at ReportLevels arrived (the first
	// point at or past each); a level never reached is absent.
	UnallocatedGPUAt map[string]float64 `json:"unallocatedGPU"`
}

// TraceResult.GPUSharing: how a replay offers a pod asking for part of one
// GPU (placer-bench trace --gpu-sharing).
const (
	// GPUSharingWhole: it asks for a whole nvidia.com/gpu, which any
	// profile can place; the rest of the device is idle.
	GPUSharingWhole = "whole"
	// GPUSharingShare: it asks for its share with the annotation
	// placer.dev/gpu-milli and no nvidia.com/gpu; its share counts as
	// allocated only once the scheduler named the device it chose
	// (placer.dev/gpu-device).
	GPUSharingShare = "share"
)

// ReportLevels are the arrived-workload levels (%) the table reports,
// the paper's.
var ReportLevels = []float64{90, 100, 110, 130}

// LevelKey names a level in UnallocatedGPUAt.
func LevelKey(level float64) string { return strconv.FormatFloat(level, 'f', -1, 64) }

// AddPoint appends one point of the curve, rounded to 0.001% to keep
// report.json small.
func (t *TraceResult) AddPoint(arrivedMilli, allocatedMilli int64) {
	c := float64(t.GPUCapacityMilli)
	round := func(v float64) float64 { return math.Round(v*1000) / 1000 }
	t.ArrivedPercent = append(t.ArrivedPercent, round(100*float64(arrivedMilli)/c))
	t.UnallocatedPercent = append(t.UnallocatedPercent, round(100-100*float64(allocatedMilli)/c))
}

// Finish fills UnallocatedGPUAt from the curve.
func (t *TraceResult) Finish() {
	t.UnallocatedGPUAt = map[string]float64{}
	for _, level := range ReportLevels {
		for i, a := range t.ArrivedPercent {
			if a >= level {
				t.UnallocatedGPUAt[LevelKey(level)] = t.UnallocatedPercent[i]
				break
			}
		}
	}
}

// traceFigures are the table's rows for a trace replay: the points of the
// curve every run reached, then pods placed and failed by shape.
func traceFigures(runs [][]*Result, add func(section, name, format string, value func(*Result) float64)) {
	base := runs[0][0].Trace
	tr := func(r *Result) *TraceResult {
		if r.Trace == nil {
			return &TraceResult{}
		}
		return r.Trace
	}
	for _, level := range ReportLevels {
		key := LevelKey(level)
		reached := true
		for _, profileRuns := range runs {
			for _, r := range profileRuns {
				if _, ok := tr(r).UnallocatedGPUAt[key]; !ok {
					reached = false
				}
			}
		}
		if !reached {
			continue
		}
		add("trace", fmt.Sprintf("unallocated GPU at %s%% arrived (%%)", key), "%.2f", func(r *Result) float64 {
			return tr(r).UnallocatedGPUAt[key]
		})
	}
	add("trace", "pods offered", "%.0f", func(r *Result) float64 { return float64(tr(r).PodsOffered) })
	if base.GPUSharing == GPUSharingShare {
		add("trace", "GPU-sharing pods (offered: share of a GPU)", "%.0f", func(r *Result) float64 { return float64(tr(r).SharingPods) })
		add("trace", "  bound without a device (no GPU allocated)", "%.0f", func(r *Result) float64 { return float64(tr(r).SharedWithoutDevice) })
	} else {
		add("trace", fmt.Sprintf("GPU-sharing pods (offered: %s GPU)", base.GPUSharing), "%.0f", func(r *Result) float64 { return float64(tr(r).SharingPods) })
	}
	noVerdict := func(r *Result) float64 {
		n := 0
		for _, v := range tr(r).NoVerdict {
			n += v
		}
		return float64(n)
	}
	for _, profileRuns := range runs {
		if slices.ContainsFunc(profileRuns, func(r *Result) bool { return noVerdict(r) > 0 }) {
			add("trace", "pods gone before a verdict", "%.0f", noVerdict)
			break
		}
	}
	// Shapes of any run: a seed may draw a shape another did not.
	shapes := map[string]int{}
	for _, profileRuns := range runs {
		for _, r := range profileRuns {
			for shape := range mergeKeys(tr(r).Placed, tr(r).Failed) {
				shapes[shape] = 0
			}
		}
	}
	for _, shape := range sortedKeys(shapes) {
		add("trace", "  placed, "+shape, "%.0f", func(r *Result) float64 { return float64(tr(r).Placed[shape]) })
		add("trace", "  failed, "+shape, "%.0f", func(r *Result) float64 { return float64(tr(r).Failed[shape]) })
	}
}

func mergeKeys(a, b map[string]int) map[string]int {
	out := map[string]int{}
	for k := range a {
		out[k] = 0
	}
	for k := range b {
		out[k] = 0
	}
	return out
}
