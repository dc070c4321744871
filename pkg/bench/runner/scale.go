package runner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/workload"
)

// scale sets every instance of a workload to replicas, as its controller
// would (sim.Workloads.Scale).
func (r *run) scale(ctx context.Context, name string, replicas int) error {
	for _, inst := range r.created[name] {
		if r.controllers != nil && inst.Owner != nil {
			r.controllers.asked(inst, replicas, r.measureAll)
		}
		if err := r.workloads.Scale(ctx, inst, replicas, r.measureAll); err != nil {
			return err
		}
	}
	return nil
}

// churn removes pods of a workload and recreates them, round after round:
// each round picks, with the file's seed, pods to lose; Deployments and Jobs
// get replacements under new names, StatefulSet replicas come back with the
// same identity and claims, bare pods under the same name.
func (r *run) churn(ctx context.Context, op workload.Op) error {
	rng := rand.New(rand.NewPCG(uint64(r.file.Seed), uint64(len(r.tracker.Records()))))
	for round := range op.Rounds.Value {
		if round > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(op.Interval.Duration):
			}
		}
		type slot struct {
			inst *generate.Instance
			i    int
		}
		var slots []slot
		for _, inst := range r.created[op.Workload] {
			for i := range inst.Pods {
				slots = append(slots, slot{inst, i})
			}
		}
		rng.Shuffle(len(slots), func(a, b int) { slots[a], slots[b] = slots[b], slots[a] })
		picked := slots[:min(op.Pods.Value, len(slots))]
		// Replace from the highest index down, so indexes stay valid.
		sort.Slice(picked, func(a, b int) bool { return picked[a].i > picked[b].i })
		for _, s := range picked {
			if _, _, err := r.workloads.Replace(ctx, s.inst, s.i, r.measureAll); err != nil {
				return fmt.Errorf("churn: %w", err)
			}
		}
	}
	return nil
}

// rollingUpdate replaces every pod of every instance of a workload, op.Pods
// of each instance at a time, as a rolling update with that maxUnavailable
// (and no surge) would: a Deployment's replacements under new names, a
// StatefulSet's with the same identity and claims, from the highest ordinal
// down, as its controller goes. Each batch waits until the pods so far are
// bound or found unschedulable; timedOut reports a batch that gave up.
func (r *run) rollingUpdate(ctx context.Context, op workload.Op) (timedOut bool, err error) {
	most := 0
	for _, inst := range r.created[op.Workload] {
		most = max(most, len(inst.Pods))
	}
	for done := 0; done < most; done += op.Pods.Value {
		for _, inst := range r.created[op.Workload] {
			n := len(inst.Pods)
			for k := done; k < min(done+op.Pods.Value, n); k++ {
				if _, _, err := r.workloads.Replace(ctx, inst, n-1-k, r.measureAll); err != nil {
					return false, fmt.Errorf("rollingUpdate: %w", err)
				}
			}
		}
		timedOut, err := r.barrier(ctx, workload.Op{Op: op.Op, Until: workload.UntilAttempted, Timeout: op.Timeout})
		if timedOut || err != nil {
			return timedOut, err
		}
	}
	return false, nil
}
