package session

import (
	"context"
	"fmt"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/upstream"
	"github.com/placer-dev/placer/pkg/sim"
)

// upstreamJob selects and plans one workload of a scheduler_perf file.
// Without --profile it runs the profile the test case asks for (its
// schedulerConfigPath, else upstream's default).
func upstreamJob(file, caseName string, sets map[string]int, profiles []string, maxObjects int) (*Job, error) {
	f, err := upstream.Load(file)
	if err != nil {
		return nil, err
	}
	tc, w, err := f.Select(caseName)
	if err != nil {
		return nil, err
	}
	plan, err := f.PlanWithCeiling(tc, w, sets, maxObjects)
	if err != nil {
		return nil, err
	}
	defaultProfile := "default"
	if path := plan.SchedulerConfigPath(); path != "" {
		defaultProfile = path
	}
	resolved, err := resolveProfiles(profiles, defaultProfile)
	if err != nil {
		return nil, err
	}
	params := map[string]int{}
	for k, v := range plan.Params {
		switch v := v.(type) {
		case int:
			params[k] = v
		case float64:
			params[k] = int(v)
		}
	}
	return &Job{Name: plan.Name(), Params: params, Profiles: resolved,
		newBackend: func(ctx context.Context, name, dir string) (sim.Backend, error) {
			if name != sim.BackendEmbedded {
				return sim.NewBackend(ctx, name, dir)
			}
			// scheduler_perf's API server and etcd settings.
			return sim.NewEmbeddedBackend(ctx, upstream.ControlPlaneOptions())
		},
		run: func(ctx context.Context, p *runner.Profile, backend sim.Backend, rc RunContext) (*result.Result, error) {
			return upstream.Run(ctx, plan, p, backend, upstream.Options{RunID: rc.RunID, Progress: rc.Progress, Observer: rc.Observer})
		},
		setup: func() (func(), error) { return upstream.ApplyFeatureGates(plan.FeatureGates) },
		warnings: func(results []*result.Result) []string {
			var out []string
			for _, res := range results {
				switch {
				case res.Throughput.Count == 0:
					out = append(out, fmt.Sprintf("profile %s: no throughput sample: the measured pods took less than a second; raise the counts with --set", res.Profile))
				case w.Threshold > 0 && res.Throughput.Average < w.Threshold:
					out = append(out, fmt.Sprintf("profile %s: average throughput %.1f pods/s is below the workload's threshold of %g (scheduler_perf's CI fails under it)",
						res.Profile, res.Throughput.Average, w.Threshold))
				}
			}
			return out
		},
	}, nil
}
