package runner

import (
	"context"
	"time"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/workload"
)

// fillToFailure adds pods of op.Shapes in turn, one at a time, each waited
// for until bound or found unschedulable, and stops at the first that is
// unschedulable: the count that fit is the classic measure of packing. One
// at a time, because a later, smaller pod fitting after a larger one failed
// would blur where the cluster was full.
func (r *run) fillToFailure(ctx context.Context, index int, op workload.Op) (*result.FillResult, error) {
	res := &result.FillResult{Index: index, Placed: map[string]int{}}
	for _, sh := range op.Shapes {
		res.Placed[sh.Name] = 0
	}
	namespace := "bench"
	if r.backend.Shared() {
		namespace = runScoped(namespace, r.opts.RunID)
	}
	if err := r.workloads.EnsureNamespace(ctx, namespace); err != nil {
		return res, err
	}
	deadline := time.Now().Add(op.Timeout.Duration)
	for i := range op.MaxPods.Value {
		sh := op.Shapes[i%len(op.Shapes)]
		pod := r.gen.FillPod(sh, i, namespace, r.profile.SchedulerName)
		uid, err := r.workloads.CreatePod(ctx, pod, nil, false)
		if err != nil {
			return res, err
		}
		for {
			rec, _ := r.tracker.Record(uid)
			if !rec.Bound.IsZero() {
				res.Placed[sh.Name]++
				res.Total++
				break
			}
			if rec.Unschedulable {
				res.FirstFailure, res.FirstFailureReason = sh.Name, rec.Reason
				return res, nil
			}
			if time.Now().After(deadline) {
				res.TimedOut = true
				return res, nil
			}
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
	}
	return res, nil
}
