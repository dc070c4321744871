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
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wanterr.Check(t, "ValidateResourceAwareArgs", ValidateResourceAwareArgs(field.NewPath("args"), &tc.args), tc.wantErr)
		})
	}
}
