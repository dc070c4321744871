package runner

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/quality"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/stats"
	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/sim"
)

// zoneOutage loses every node of a zone.
func (r *run) zoneOutage(ctx context.Context, index int, op workload.Op) (*result.DrillResult, error) {
	var names []string
	for _, n := range r.liveNodes() {
		if r.zones[n] == op.Zone {
			names = append(names, n)
		}
	}
	return r.loseNodes(ctx, index, op, op.Zone, names)
}

// nodeFailure loses op.Nodes nodes, picked with the seed among the healthy
// nodes that hold pods of the run (losing an empty node tests nothing).
func (r *run) nodeFailure(ctx context.Context, index int, op workload.Op) (*result.DrillResult, error) {
	busy := map[string]bool{}
	for _, rec := range r.tracker.snapshot() {
		if !rec.deleted && rec.node != "" {
			busy[rec.node] = true
		}
	}
	var candidates []string
	for _, n := range r.liveNodes() {
		if busy[n] {
			candidates = append(candidates, n)
		}
	}
	rng := rand.New(rand.NewPCG(uint64(r.file.Seed), uint64(index)))
	rng.Shuffle(len(candidates), func(a, b int) { candidates[a], candidates[b] = candidates[b], candidates[a] })
	picked := candidates[:min(op.Nodes.Value, len(candidates))]
	sort.Strings(picked)
	return r.loseNodes(ctx, index, op, fmt.Sprintf("%d nodes", len(picked)), picked)
}

// liveNodes are the run's nodes that are not lost, sorted.
func (r *run) liveNodes() []string {
	var out []string
	for name := range r.nodes {
		if _, lost := r.lost[name]; !lost {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func (r *run) loseNodes(ctx context.Context, index int, op workload.Op, domain string, names []string) (*result.DrillResult, error) {
	res := &result.DrillResult{Op: op.Op, Index: index, Domain: domain, Mode: op.Mode, NodesLost: len(names)}
	lost := map[string]bool{}
	for _, n := range names {
		lost[n] = true
	}
	// What survives the outage, counted before anything is replaced.
	im := quality.ImpactOf(r.records().placements(), func(node string) bool { return lost[node] }, domain)
	res.DuringOutage = &im

	start := time.Now()
	for _, name := range names {
		if err := r.failNode(ctx, name, op.Mode); err != nil {
			return res, err
		}
		r.lost[name] = op.Mode
	}
	// In a cluster, pods are evicted minutes after their node is lost; the
	// scheduler has long seen the node go by then. Here the replacements
	// follow at once, so wait for the scheduler to see it first.
	if err := r.waitSchedulerSeesLost(ctx, names); err != nil {
		return res, err
	}
	// The controllers' part: the pods on lost nodes go, and those with a
	// controller come back. Order by name so runs are repeatable.
	var victims []podRecord
	for _, rec := range r.tracker.snapshot() {
		if !rec.deleted && rec.pod != nil && lost[rec.node] {
			victims = append(victims, rec)
		}
	}
	sort.Slice(victims, func(a, b int) bool { return victims[a].pod.Name < victims[b].pod.Name })
	var replacements []types.UID
	for _, v := range victims {
		res.PodsDisplaced++
		uid, err := r.replace(ctx, v.pod)
		if err != nil {
			return res, err
		}
		if uid == "" {
			res.PodsLost++
			continue
		}
		replacements = append(replacements, uid)
	}
	timedOut, err := r.waitRebound(ctx, res, start, replacements, op.Timeout.Duration, false)
	res.TimedOut = timedOut
	return res, err
}

// failNode makes a node unusable: NotReady and tainted unreachable, or gone.
func (r *run) failNode(ctx context.Context, name, mode string) error {
	return sim.LoseNode(ctx, r.client, name, mode == workload.OutageRemove)
}

// replace deletes a pod and, when a controller of the run owns it, creates
// its replacement as that controller would; it returns the replacement's
// UID, or "" for a pod nothing recreates.
func (r *run) replace(ctx context.Context, pod *v1.Pod) (types.UID, error) {
	inst, i := r.slotOf(pod)
	if inst == nil || inst.Owner == nil {
		return "", r.workloads.DeletePod(ctx, pod.Namespace, pod.Name)
	}
	_, uid, err := r.workloads.Replace(ctx, inst, i, false)
	return uid, err
}

// slotOf finds the instance and index of a pod the run created.
func (r *run) slotOf(pod *v1.Pod) (*generate.Instance, int) {
	for _, insts := range r.created {
		for _, inst := range insts {
			for i, p := range inst.Pods {
				if p.Namespace == pod.Namespace && p.Name == pod.Name {
					return inst, i
				}
			}
		}
	}
	return nil, 0
}

// waitRebound waits until each of uids is bound or found unschedulable,
// then records how long binding took from start. Pods that were found
// unschedulable before (retried) keeps waiting until they are bound or the
// scheduler has settled: retried pods found unschedulable again get the
// same verdict, which the scheduler does not write again, so settled means
// its active and backoff queues have stayed empty for a second.
func (r *run) waitRebound(ctx context.Context, res *result.DrillResult, start time.Time, uids []types.UID, timeout time.Duration, retried bool) (bool, error) {
	deadline := start.Add(timeout)
	timedOut := false
	var quietSince time.Time
	for {
		pending := 0
		for _, uid := range uids {
			rec, _ := r.tracker.record(uid)
			if rec.bound.IsZero() && (retried || !rec.unschedulable) {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if retried {
			if schedulerQueuesEmpty() {
				if quietSince.IsZero() {
					quietSince = time.Now()
				}
				if time.Since(quietSince) >= time.Second && time.Since(start) >= time.Second {
					break
				}
			} else {
				quietSince = time.Time{}
			}
		}
		if time.Now().After(deadline) {
			timedOut = true
			break
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	var took []float64
	for _, uid := range uids {
		rec, _ := r.tracker.record(uid)
		if rec.bound.IsZero() {
			res.Unplaced++
			continue
		}
		res.Rebound++
		took = append(took, rec.bound.Sub(start).Seconds())
	}
	res.ReboundSeconds = stats.Summarize(took)
	return timedOut, nil
}

// zoneRecovery brings a lost zone's nodes back, and waits for the pods
// that were left pending to be bound.
func (r *run) zoneRecovery(ctx context.Context, index int, op workload.Op) (*result.DrillResult, error) {
	res := &result.DrillResult{Op: op.Op, Index: index, Domain: op.Zone}
	// The pods waiting now are what the recovery may place; taken before
	// the nodes return, as the scheduler retries them at once.
	var pending []types.UID
	for uid, rec := range r.tracker.snapshotByUID() {
		if !rec.deleted && rec.bound.IsZero() {
			pending = append(pending, uid)
		}
	}
	start := time.Now()
	var restored []*v1.Node
	for _, name := range slices.Sorted(maps.Keys(r.lost)) {
		if r.zones[name] != op.Zone {
			continue
		}
		mode := r.lost[name]
		if err := r.restoreNode(ctx, name, mode); err != nil {
			return res, err
		}
		delete(r.lost, name)
		restored = append(restored, r.nodes[name])
		res.NodesLost++
	}
	if err := r.waitSchedulerSeesNodes(ctx, restored); err != nil {
		return res, err
	}
	timedOut, err := r.waitRebound(ctx, res, start, pending, op.Timeout.Duration, true)
	res.TimedOut = timedOut
	return res, err
}

// restoreNode undoes failNode.
func (r *run) restoreNode(ctx context.Context, name, mode string) error {
	n := r.nodes[name].DeepCopy()
	r.backend.PrepareNode(n)
	return sim.RestoreNode(ctx, r.client, n, mode == workload.OutageRemove)
}

// waitSchedulerSeesLost waits until the scheduler's informer has every
// named node removed or tainted unreachable.
func (r *run) waitSchedulerSeesLost(ctx context.Context, names []string) error {
	lister := r.sched.Informers.Core().V1().Nodes().Lister()
	return wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Minute, true, func(context.Context) (bool, error) {
		for _, name := range names {
			n, err := lister.Get(name)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil || !slices.ContainsFunc(n.Spec.Taints, func(t v1.Taint) bool { return t.Key == v1.TaintNodeUnreachable }) {
				return false, nil
			}
		}
		return true, nil
	})
}
