package session

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/placer-dev/placer/pkg/bench/limits"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/trace"
	"github.com/placer-dev/placer/pkg/bench/trace/replay"
	"github.com/placer-dev/placer/pkg/gpushare"
	"github.com/placer-dev/placer/pkg/sim"
)

// Trace formats, placer-bench trace's first argument.
const (
	TraceOpenB = "openb"
	TraceFile  = "file"
)

// TraceInput is a trace to replay, as placer-bench trace's flags give it
// (checked there: which flags go with which protocol, and their ranges).
type TraceInput struct {
	// Format is TraceOpenB (Nodes and Pods) or TraceFile (File, the
	// neutral format of docs/traces.md).
	Format string `json:"format"`
	File   string `json:"file,omitempty"`
	Nodes  string `json:"nodes,omitempty"`
	Pods   string `json:"pods,omitempty"`
	// Protocol is trace.ProtocolFGD (Seeds, TargetPercent) or
	// trace.ProtocolTimeline (Speed).
	Protocol      string  `json:"protocol"`
	Seeds         []int64 `json:"seeds,omitempty"`
	TargetPercent float64 `json:"targetPercent,omitempty"`
	Speed         float64 `json:"speed,omitempty"`
	// GPUSharing is how pods asking for part of one GPU are offered:
	// result.GPUSharingWhole or result.GPUSharingShare (--gpu-sharing;
	// empty: whole).
	GPUSharing string `json:"gpuSharing,omitempty"`
}

// Runs is how many runs of each profile count replays make: one per seed
// and replay with the FGD protocol.
func (in TraceInput) Runs(count int) int {
	if len(in.Seeds) > 0 {
		return len(in.Seeds) * count
	}
	return count
}

// Read reads the trace.
func (in TraceInput) Read() (*trace.Trace, error) {
	if in.Format == TraceOpenB {
		return trace.ReadOpenB(in.Nodes, in.Pods)
	}
	return trace.ReadJSONL(in.File)
}

// ReportFile is the file a report names as the trace's: the pod list of
// an OpenB trace.
func (in TraceInput) ReportFile() string {
	if in.Format == TraceOpenB {
		return in.Pods
	}
	return in.File
}

// WriteTrace writes t in the neutral format (JSON Lines) to path.
func WriteTrace(path string, t *trace.Trace) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := trace.WriteJSONL(f, t); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// traceJob reads the trace and checks its draw or timeline here, not in
// each run's process.
func traceJob(in TraceInput, profiles []string, maxObjects int) (*Job, error) {
	// Refused before the trace, maybe large, is read.
	switch in.GPUSharing {
	case "":
		in.GPUSharing = result.GPUSharingWhole
	case result.GPUSharingWhole, result.GPUSharingShare:
	default:
		return nil, fmt.Errorf("--gpu-sharing %q: want %s (a pod asking for part of a GPU asks for a whole %s) or %s (it asks for its share with the annotation %s)",
			in.GPUSharing, result.GPUSharingWhole, gpushare.Resource, result.GPUSharingShare, gpushare.ShareAnnotation)
	}
	ceiling, err := limits.Ceiling(maxObjects)
	if err != nil {
		return nil, err
	}
	t, err := in.Read()
	if err != nil {
		return nil, err
	}
	opts := replay.Options{Protocol: in.Protocol, GPUSharing: in.GPUSharing}
	params := map[string]int{"nodes": len(t.Nodes), "tracePods": len(t.Pods)}
	switch in.Protocol {
	case trace.ProtocolFGD:
		if len(in.Seeds) == 0 {
			return nil, fmt.Errorf("--protocol %s needs at least one --seed", in.Protocol)
		}
		// Every seed's draw within the ceiling, counted without being kept.
		if err := trace.CheckFGD(t, in.Seeds, in.TargetPercent, ceiling); err != nil {
			return nil, err
		}
		if _, err := trace.DrawFGD(t, in.Seeds[0], in.TargetPercent); err != nil {
			return nil, err
		}
		opts.TargetPercent = in.TargetPercent
		params["seeds"], params["targetPercent"] = len(in.Seeds), int(in.TargetPercent)
	case trace.ProtocolTimeline:
		events, err := trace.Timeline(t, in.Speed)
		if err != nil {
			return nil, err
		}
		if err := trace.CheckTimeline(t, events, ceiling); err != nil {
			return nil, err
		}
		opts.Speed = in.Speed
	default:
		return nil, fmt.Errorf("--protocol %q: want %s or %s", in.Protocol, trace.ProtocolFGD, trace.ProtocolTimeline)
	}
	resolved, err := resolveProfiles(profiles, "default", "placer")
	if err != nil {
		return nil, err
	}
	job := &Job{Name: t.Name + "-" + in.Protocol, File: in.ReportFile(), Params: params, Profiles: resolved}
	if len(in.Seeds) > 0 {
		job.Seed = in.Seeds[0]
	}
	job.run = func(ctx context.Context, p *runner.Profile, b sim.Backend, rc RunContext) (*result.Result, error) {
		o := opts
		o.RunID, o.Progress = rc.RunID, rc.Progress
		if len(in.Seeds) > 0 {
			// Round r replays seed r of the list, the list repeated --count times.
			o.Seed = in.Seeds[(rc.Round-1)%len(in.Seeds)]
		}
		return replay.Run(ctx, t, p, b, o)
	}
	job.warnings = func(results []*result.Result) []string {
		var out []string
		for _, r := range results {
			n := 0
			if r.Trace != nil {
				for _, v := range r.Trace.NoVerdict {
					n += v
				}
			}
			if n > 0 {
				out = append(out, fmt.Sprintf("profile %s: %d pods left before the scheduler decided on them: --speed %g outpaces it; lower --speed", r.Profile, n, in.Speed))
			}
		}
		return append(out, sharingNotes(in.GPUSharing, results)...)
	}
	return job, nil
}

// sharingNotes say how the replay offered GPU-sharing pods and how it
// counted them, when it offered any, and which profiles bound shares
// without naming a device.
func sharingNotes(mode string, results []*result.Result) []string {
	offered := slices.ContainsFunc(results, func(r *result.Result) bool { return r.Trace != nil && r.Trace.SharingPods > 0 })
	if !offered {
		return nil
	}
	if mode == result.GPUSharingWhole {
		return []string{fmt.Sprintf("GPU-sharing pods (gpu_milli < 1000) were offered as a whole %s each (--gpu-sharing %s): the rest of each such GPU is idle and counts as unallocated; --gpu-sharing %s offers them as shares",
			gpushare.Resource, mode, result.GPUSharingShare)}
	}
	out := []string{fmt.Sprintf("GPU-sharing pods (gpu_milli < 1000) were offered as shares of one GPU (--gpu-sharing %s: annotation %s, no %s request): a share counts as allocated only when the profile named the device it chose (annotation %s)",
		mode, gpushare.ShareAnnotation, gpushare.Resource, gpushare.DeviceAnnotation)}
	// One line per profile, whatever its number of runs.
	var profiles []string
	without, runs, badDevice := map[string]int{}, map[string]int{}, map[string]string{}
	for _, r := range results {
		if r.Trace == nil {
			continue
		}
		if _, seen := runs[r.Profile]; !seen {
			profiles = append(profiles, r.Profile)
		}
		runs[r.Profile]++
		without[r.Profile] += r.Trace.SharedWithoutDevice
		if badDevice[r.Profile] == "" {
			badDevice[r.Profile] = r.Trace.DeviceAnnotationError
		}
	}
	for _, p := range profiles {
		if n := without[p]; n > 0 {
			out = append(out, fmt.Sprintf("profile %s: %d GPU-sharing pods in %d run(s) bound without a device (annotation %s): the profile placed them as pods asking for no GPU; they hold none and their shares count as unallocated",
				p, n, runs[p], gpushare.DeviceAnnotation))
		}
		if e := badDevice[p]; e != "" {
			out = append(out, fmt.Sprintf("profile %s: %s; that pod counts as bound without a device", p, e))
		}
	}
	return out
}
