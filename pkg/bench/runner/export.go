package runner

import (
	"context"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/stats"
)

// This file exposes the runner's bookkeeping to executors of other file
// formats (pkg/bench/upstream runs scheduler_perf's configurations), so that
// every format's figures come from the same pod tracking, histograms and
// memory sampling, and land in the same result.Result, table and reports.

// Tracker follows pods through create calls and informer events: when each
// was created and first seen bound, and the scheduler's last verdict.
type Tracker struct{ t *podTracker }

// NewTracker returns an empty tracker.
func NewTracker() *Tracker { return &Tracker{t: newPodTracker()} }

// Created records a pod the harness created at at (just before the create
// request); measured pods count in latency.
func (t *Tracker) Created(uid types.UID, at time.Time, measured bool) { t.t.created(uid, at, measured) }

// Observe updates a pod's record from an informer event seen at now.
func (t *Tracker) Observe(pod *v1.Pod, now time.Time) { t.t.observe(pod, now) }

// Progress counts the pods created so far, those bound, and those found
// unschedulable.
func (t *Tracker) Progress() (created, bound, unschedulable int) { return t.t.progress() }

// BindTimes returns when each created pod that keep accepts (its last seen
// state) was first seen bound.
func (t *Tracker) BindTimes(keep func(*v1.Pod) bool) []time.Time {
	var out []time.Time
	for _, rec := range t.t.snapshot() {
		if rec.bound.IsZero() || rec.pod == nil || !keep(rec.pod) {
			continue
		}
		out = append(out, rec.bound)
	}
	return out
}

// Fill sets res's outcome counts, the creation-to-bind latency of the
// measured pods, and its placements. Throughput is the caller's: what it
// covers depends on the file format.
func (t *Tracker) Fill(res *result.Result, nodeZones map[string]string) {
	recs := podRecords{records: t.t.snapshot(), zones: nodeZones}
	res.SetPlacements(recs.placements())
	_, lat := recs.tally(res)
	res.Latency = stats.Summarize(lat)
}

// MemorySampler records the process's peak heap and resident set.
type MemorySampler struct{ m *memorySampler }

// StartMemorySampler samples every interval until Finish.
func StartMemorySampler(ctx context.Context, every time.Duration) *MemorySampler {
	return &MemorySampler{m: startMemorySampler(ctx, every)}
}

// Finish stops sampling and returns the peaks in bytes.
func (s *MemorySampler) Finish() (heap, rss uint64) { return s.m.finish() }

// SchedulerHistograms reads the in-process scheduler's histograms for the
// profile whose pods ask for schedulerName, as Run reports them.
func SchedulerHistograms(schedulerName string) ([]result.HistogramSummary, error) {
	return collectSchedulerHistograms(schedulerName)
}

// PreemptionAttempts reads the scheduler's preemption attempts since the
// component-base registry was last reset.
func PreemptionAttempts() int { return preemptionAttempts() }
