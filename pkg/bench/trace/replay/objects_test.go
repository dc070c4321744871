package replay

import (
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/trace"
	"github.com/placer-dev/placer/pkg/gpushare"
)

// A GPU-sharing pod asks for a whole nvidia.com/gpu with gpuSharing
// "whole", and for its share in the annotation, with no nvidia.com/gpu,
// with "share"; a pod asking for whole GPUs asks for them either way. The
// accepted models stay a required node affinity in both.
func TestPodGPUSharing(t *testing.T) {
	share := trace.Pod{Name: "share-1", CPUMilli: 2000, MemoryMiB: 1024, GPUs: 1, GPUMilli: 300, GPUModels: []string{"T4"}}
	whole := trace.Pod{Name: "whole-1", CPUMilli: 2000, MemoryMiB: 1024, GPUs: 2, GPUMilli: 1000}
	for _, tc := range []struct {
		name       string
		pod        *trace.Pod
		mode       string
		gpus       int64 // the nvidia.com/gpu request and limit; 0: none
		annotation string
	}{
		{name: "share, whole", pod: &share, mode: result.GPUSharingWhole, gpus: 1},
		{name: "share, share", pod: &share, mode: result.GPUSharingShare, annotation: "300"},
		{name: "two GPUs, whole", pod: &whole, mode: result.GPUSharingWhole, gpus: 2},
		{name: "two GPUs, share", pod: &whole, mode: result.GPUSharingShare, gpus: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pod(tc.pod, "run", "sched", tc.mode)
			res := p.Spec.Containers[0].Resources
			req, hasReq := res.Requests[GPUResource]
			lim, hasLim := res.Limits[GPUResource]
			if tc.gpus == 0 && (hasReq || hasLim) {
				t.Errorf("requests %v, limits %v: want no %s", res.Requests, res.Limits, GPUResource)
			}
			if tc.gpus > 0 && (req.Value() != tc.gpus || lim.Value() != tc.gpus) {
				t.Errorf("%s request %v, limit %v: want %d", GPUResource, req.String(), lim.String(), tc.gpus)
			}
			if got, ok := p.Annotations[gpushare.ShareAnnotation]; got != tc.annotation || ok != (tc.annotation != "") {
				t.Errorf("annotation %s=%q (set: %v), want %q", gpushare.ShareAnnotation, got, ok, tc.annotation)
			}
			if cpu := res.Requests[v1.ResourceCPU]; cpu.MilliValue() != tc.pod.CPUMilli {
				t.Errorf("cpu request %v, want %dm", cpu.String(), tc.pod.CPUMilli)
			}
			if len(tc.pod.GPUModels) > 0 {
				a := p.Spec.Affinity
				if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
					t.Fatalf("affinity %+v: want the models as a required node affinity", a)
				}
				expr := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
				if expr.Key != gpushare.ModelLabel || len(expr.Values) != 1 || expr.Values[0] != "T4" {
					t.Errorf("node affinity %+v, want %s In [T4]", expr, gpushare.ModelLabel)
				}
			}
		})
	}
}
