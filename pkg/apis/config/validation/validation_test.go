package validation

import (
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/internal/wanterr"
	"github.com/placer-dev/placer/pkg/apis/config"
)

func TestValidateResourceAwareArgs(t *testing.T) {
	shape := []config.UtilizationShapePoint{{Utilization: 0, Score: 0}, {Utilization: 100, Score: 10}}
	cases := []struct {
		name    string
		args    config.ResourceAwareArgs
		wantErr []string // substrings; empty means valid
	}{
		{name: "valid mix", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "nvidia.com/gpu", Strategy: config.MostAllocated, Weight: 5},
			{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1},
			{Name: "memory", Strategy: config.RequestedToCapacityRatio, Weight: 100, Shape: shape},
		}}},
		{name: "no resources", args: config.ResourceAwareArgs{},
			wantErr: []string{"args.resources: Required value"}},
		{name: "empty name", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Strategy: config.LeastAllocated, Weight: 1}}},
			wantErr: []string{"args.resources[0].name: Required value"}},
		{name: "bad name", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "gpu!", Strategy: config.LeastAllocated, Weight: 1}}},
			wantErr: []string{`args.resources[0].name: Invalid value: "gpu!"`}},
		{name: "duplicate", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1},
			{Name: "cpu", Strategy: config.MostAllocated, Weight: 1}}},
			wantErr: []string{`args.resources[1].name: Duplicate value: "cpu"`}},
		{name: "weight zero", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "cpu", Strategy: config.LeastAllocated, Weight: 0}}},
			wantErr: []string{"args.resources[0].weight: Invalid value: 0: must be in the range [1, 100]"}},
		{name: "weight too big", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "cpu", Strategy: config.LeastAllocated, Weight: 101}}},
			wantErr: []string{"args.resources[0].weight: Invalid value: 101"}},
		{name: "unknown strategy", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "cpu", Strategy: "Spread", Weight: 1}}},
			wantErr: []string{`args.resources[0].strategy: Unsupported value: "Spread"`}},
		{name: "shape missing", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "cpu", Strategy: config.RequestedToCapacityRatio, Weight: 1}}},
			wantErr: []string{"args.resources[0].shape: Required value"}},
		{name: "shape on another strategy", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "cpu", Strategy: config.MostAllocated, Weight: 1, Shape: shape}}},
			wantErr: []string{"args.resources[0].shape: Forbidden"}},
		{name: "shape not increasing, out of range", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "cpu", Strategy: config.RequestedToCapacityRatio, Weight: 1, Shape: []config.UtilizationShapePoint{
				{Utilization: 50, Score: 1}, {Utilization: 50, Score: 11}, {Utilization: 101, Score: -1}}}}},
			wantErr: []string{
				"args.resources[0].shape[1].utilization: Invalid value: 50: must be greater than the previous point's 50",
				"args.resources[0].shape[1].score: Invalid value: 11",
				"args.resources[0].shape[2].utilization: Invalid value: 101",
				"args.resources[0].shape[2].score: Invalid value: -1",
			}},
	}
	cpu := []config.ResourcePolicy{{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1}}
	cases = append(cases, []struct {
		name    string
		args    config.ResourceAwareArgs
		wantErr []string
	}{
		{name: "ceiling valid", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1, MaxRequestedPercent: ptr.To[int32](90)}}}},
		{name: "ceiling zero", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1, MaxRequestedPercent: ptr.To[int32](0)}}},
			wantErr: []string{"args.resources[0].maxRequestedPercent: Invalid value: 0: must be in the range [1, 100]"}},
		{name: "ceiling above 100", args: config.ResourceAwareArgs{Resources: []config.ResourcePolicy{
			{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1, MaxRequestedPercent: ptr.To[int32](120)}}},
			wantErr: []string{"args.resources[0].maxRequestedPercent: Invalid value: 120"}},
		{name: "scarce valid", args: config.ResourceAwareArgs{Resources: cpu,
			ScarceResources: &config.ScarceResourcePolicy{Resources: []string{"nvidia.com/gpu", "example.com/fpga"}, Weight: 5}}},
		{name: "scarce empty list needs no weight", args: config.ResourceAwareArgs{Resources: cpu,
			ScarceResources: &config.ScarceResourcePolicy{}}},
		{name: "scarce standard resource", args: config.ResourceAwareArgs{Resources: cpu,
			ScarceResources: &config.ScarceResourcePolicy{Resources: []string{"memory"}, Weight: 5}},
			wantErr: []string{`args.scarceResources.resources[0]: Invalid value: "memory": must be an extended resource`}},
		{name: "scarce duplicate and bad weight", args: config.ResourceAwareArgs{Resources: cpu,
			ScarceResources: &config.ScarceResourcePolicy{Resources: []string{"nvidia.com/gpu", "nvidia.com/gpu"}, Weight: -1}},
			wantErr: []string{`args.scarceResources.resources[1]: Duplicate value: "nvidia.com/gpu"`,
				"args.scarceResources.weight: Invalid value: -1"}},
		{name: "fit valid", args: config.ResourceAwareArgs{Resources: cpu, Fit: &config.FitPolicy{Strategy: config.Alignment, Weight: 2}}},
		{name: "fit unknown strategy", args: config.ResourceAwareArgs{Resources: cpu, Fit: &config.FitPolicy{Strategy: "Tetris", Weight: 2}},
			wantErr: []string{`args.fit.strategy: Unsupported value: "Tetris": supported values: "LeastStranded", "Alignment"`}},
		{name: "fit weight", args: config.ResourceAwareArgs{Resources: cpu, Fit: &config.FitPolicy{Strategy: config.LeastStranded}},
			wantErr: []string{"args.fit.weight: Invalid value: 0"}},
	}...)
	sharing := func(edit func(*config.GPUSharingPolicy)) *config.GPUSharingPolicy {
		g := &config.GPUSharingPolicy{Enabled: true, Resource: "nvidia.com/gpu", ShareAnnotation: "placer.dev/gpu-milli",
			DeviceAnnotation: "placer.dev/gpu-device", ModelsAnnotation: "placer.dev/gpu-models", ModelLabel: "nvidia.com/gpu.product"}
		edit(g)
		return g
	}
	asIs := func(*config.GPUSharingPolicy) {}
	cases = append(cases, []struct {
		name    string
		args    config.ResourceAwareArgs
		wantErr []string
	}{
		{name: "gpuSharing and fragmentation valid", args: config.ResourceAwareArgs{Resources: cpu,
			GPUSharing: sharing(asIs), Fragmentation: &config.FragmentationPolicy{Enabled: true}}},
		{name: "gpuSharing of another extended resource", args: config.ResourceAwareArgs{Resources: cpu,
			GPUSharing: sharing(func(g *config.GPUSharingPolicy) { g.Resource = "amd.com/gpu" })}},
		{name: "gpuSharing of a standard resource", args: config.ResourceAwareArgs{Resources: cpu,
			GPUSharing: sharing(func(g *config.GPUSharingPolicy) { g.Resource = "memory" })},
			wantErr: []string{`args.gpuSharing.resource: Invalid value: "memory": must be an extended resource`}},
		// Keys are checked even with the accounting off: turning it on
		// later must not reveal an old mistake.
		{name: "gpuSharing annotation key not a qualified name", args: config.ResourceAwareArgs{Resources: cpu,
			GPUSharing: sharing(func(g *config.GPUSharingPolicy) { g.Enabled = false; g.ShareAnnotation = "placer.dev/gpu milli" })},
			wantErr: []string{`args.gpuSharing.shareAnnotation: Invalid value: "placer.dev/gpu milli"`}},
		{name: "gpuSharing empty key", args: config.ResourceAwareArgs{Resources: cpu,
			GPUSharing: sharing(func(g *config.GPUSharingPolicy) { g.ModelLabel = "" })},
			wantErr: []string{"args.gpuSharing.modelLabel: Required value"}},
		// The scheduler's own annotation must not be the one the pod asks with.
		{name: "gpuSharing duplicate annotation keys", args: config.ResourceAwareArgs{Resources: cpu,
			GPUSharing: sharing(func(g *config.GPUSharingPolicy) { g.DeviceAnnotation = g.ShareAnnotation })},
			wantErr: []string{`args.gpuSharing.deviceAnnotation: Duplicate value: "placer.dev/gpu-milli"`}},
		// A label and an annotation live in different maps: the same key is no clash.
		{name: "gpuSharing model label named like an annotation", args: config.ResourceAwareArgs{Resources: cpu,
			GPUSharing: sharing(func(g *config.GPUSharingPolicy) { g.ModelLabel = g.ModelsAnnotation })}},
		{name: "fragmentation with gpuSharing off", args: config.ResourceAwareArgs{Resources: cpu,
			GPUSharing: sharing(func(g *config.GPUSharingPolicy) { g.Enabled = false }), Fragmentation: &config.FragmentationPolicy{Enabled: true}},
			wantErr: []string{"args.fragmentation.enabled: Invalid value: true: the fragmentation score reads the GPU device accounting"}},
		{name: "fragmentation without gpuSharing", args: config.ResourceAwareArgs{Resources: cpu,
			Fragmentation: &config.FragmentationPolicy{Enabled: true}},
			wantErr: []string{"args.fragmentation.enabled: Invalid value: true"}},
		{name: "fragmentation off with gpuSharing off", args: config.ResourceAwareArgs{Resources: cpu,
			GPUSharing: sharing(func(g *config.GPUSharingPolicy) { g.Enabled = false }), Fragmentation: &config.FragmentationPolicy{}}},
	}...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wanterr.Check(t, "ValidateResourceAwareArgs", ValidateResourceAwareArgs(field.NewPath("args"), &tc.args), tc.wantErr)
		})
	}
}
