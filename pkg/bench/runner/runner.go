// Package runner runs a workload file against a backend with one scheduler
// profile running in-process, and measures what happened: throughput as
// scheduler_perf samples it, each pod's creation-to-bind latency, outcomes,
// the time of each op, and the harness's peak memory.
package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/measure"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
	"github.com/placer-dev/placer/pkg/sim"
)

// Options tune a run.
type Options struct {
	// RunID labels everything the run creates.
	RunID string
	// Workers create objects in parallel against an API server.
	Workers int
	// Progress, when set, is called about once a second with the pods
	// created, bound and unschedulable so far.
	Progress func(op string, created, bound, unschedulable int)
	// Observer, when set, hears of ops and pods as the run goes.
	Observer Observer
}

// Observer follows a run as it goes (measure.Observer, under the name the
// runner's callers know).
type Observer = measure.Observer

// run is the state of one profile's run.
type run struct {
	file    *workload.File
	profile *Profile
	backend sim.Backend
	client  kubernetes.Interface
	gen     *generate.Generator
	opts    Options
	tracker *measure.Tracker
	// workloads creates and changes the run's instances as controllers would.
	workloads *sim.Workloads
	// controllers is set where the cluster's own controllers make the pods.
	controllers *byController
	created     map[string][]*generate.Instance
	zones       map[string]string
	// nodes are the generated nodes by name; lost, those a drill took down
	// and how (workload.OutageNotReady or OutageRemove).
	nodes map[string]*v1.Node
	lost  map[string]string
	// occupied is what pods that are not the run's (a snapshot's) take on
	// each node.
	occupied map[string]occupancy
	// drills and fills are the results of those ops, in order.
	drills []result.DrillResult
	fills  []result.FillResult
	// measureAll: no op says measure, so every pod is measured.
	measureAll bool
	// firstMeasured is when the first measured pod was created: throughput
	// sampling starts there.
	firstMeasured time.Time
	// measuredUntil is when the barrier after the last op that measures
	// ended (zero if none followed it): throughput counts no bind after it,
	// so a measured pod bound only once a later op freed room for it does
	// not stretch the window over ops that are not measured.
	measuredUntil   time.Time
	awaitingBarrier bool
	sched           *inprocscheduler.Scheduler
}

// Run runs f with profile on backend. The backend is the caller's to close.
func Run(ctx context.Context, f *workload.File, profile *Profile, backend sim.Backend, opts Options) (*result.Result, error) {
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if backend.Shared() {
		f = ownNamespaces(f, opts.RunID)
	}
	r := &run{file: f, profile: profile, backend: backend, client: backend.Client(), opts: opts,
		gen: generate.New(f, opts.RunID), created: map[string][]*generate.Instance{}, zones: map[string]string{}, measureAll: true,
		nodes: map[string]*v1.Node{}, lost: map[string]string{}, occupied: map[string]occupancy{}}
	if backend.Shared() {
		r.gen.NodePrefix = opts.RunID + "-"
	}
	for _, op := range f.Ops {
		if op.Measure {
			r.measureAll = false
		}
	}
	if backend.RunsControllers() {
		if err := checkControllerOps(f); err != nil {
			return nil, err
		}
		r.controllers = &byController{}
	}
	s, err := measure.Start(ctx, profile, backend, measure.Options{RunID: opts.RunID, Observer: opts.Observer, OnPod: r.seen})
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	r.tracker, r.sched = s.Tracker, s.Scheduler
	r.workloads = sim.NewWorkloads(backend, r.gen, opts.RunID)
	r.workloads.OnPodCreated = r.tracker.Created
	// Claims of StatefulSets need their classes and a provisioner, which the
	// harness provides as it provides the controllers.
	provCtx, stopProv := context.WithCancel(ctx)
	defer stopProv()
	// On a shared cluster, only the run's own claims.
	var claimsOf string
	if backend.Shared() {
		claimsOf = opts.RunID
	}
	go sim.RunProvisioner(provCtx, r.client, claimsOf)

	if f.Cluster.Snapshot != "" {
		if err := r.loadSnapshot(ctx); err != nil {
			return nil, err
		}
	}
	var runErr error
	for i, op := range f.Ops {
		err := s.Phase(i, op.Op, func() (bool, error) { return r.do(ctx, i, op) })
		if err != nil {
			runErr = fmt.Errorf("ops[%d] (%s): %w", i, op.Op, err)
			break
		}
	}
	res := s.Result
	res.Drills, res.Fills = r.drills, r.fills
	return res, errors.Join(runErr, s.Finish(ctx, r.summary()))
}

// ownNamespaces is f with every workload in a namespace of the run's own
// and its claims in storage classes of the run's own (the file's names,
// suffixed with the run ID's random tail): on a cluster other runs share,
// two runs of the same file must not create objects of the same names, and
// a claim must never reach a class of the cluster's, whose provisioner
// would make a real volume.
func ownNamespaces(f *workload.File, runID string) *workload.File {
	own := *f
	own.Workloads = slices.Clone(f.Workloads)
	for i := range own.Workloads {
		w := &own.Workloads[i]
		w.Namespace = runScoped(w.Namespace, runID)
		w.VolumeClaims = slices.Clone(w.VolumeClaims)
		for j := range w.VolumeClaims {
			w.VolumeClaims[j].StorageClassName = runScoped(w.VolumeClaims[j].StorageClassName, runID)
		}
	}
	return &own
}

// runScoped is a name (of a namespace or a storage class) made the run's
// own on a shared cluster: the name and the last 6 characters of the run ID
// (its random part), still a valid DNS label.
func runScoped(name, runID string) string {
	return name + "-" + runID[max(0, len(runID)-6):]
}

// summary is what the run knows of its pods' nodes and workloads, and
// where measuring started.
func (r *run) summary() measure.Summary {
	var reference v1.ResourceList
	if r.file.Quality != nil {
		reference = r.file.Quality.ReferencePod
	}
	return measure.Summary{Zones: r.zones, Nodes: r.qualityNodes(), Reference: reference, From: r.firstMeasured, Until: r.measuredUntil}
}

// do runs one op; timedOut reports a barrier (or drill) that gave up.
func (r *run) do(ctx context.Context, index int, op workload.Op) (timedOut bool, err error) {
	switch op.Op {
	case workload.OpZoneOutage, workload.OpNodeFailure, workload.OpZoneRecovery:
		drill := map[string]func(context.Context, int, workload.Op) (*result.DrillResult, error){
			workload.OpZoneOutage: r.zoneOutage, workload.OpNodeFailure: r.nodeFailure, workload.OpZoneRecovery: r.zoneRecovery,
		}[op.Op]
		res, err := drill(ctx, index, op)
		if res != nil {
			r.drills = append(r.drills, *res)
			timedOut = res.TimedOut
		}
		return timedOut, err
	case workload.OpFillToFailure:
		res, err := r.fillToFailure(ctx, index, op)
		if res != nil {
			r.fills = append(r.fills, *res)
			timedOut = res.TimedOut
		}
		return timedOut, err
	case workload.OpCreateNodes:
		return false, r.createNodes(ctx, op.Groups)
	case workload.OpCreateWorkloads:
		r.awaitingBarrier = r.awaitingBarrier || op.Measure
		return false, r.createWorkloads(ctx, op.Workloads, op.Rate.Value, r.measureAll || op.Measure)
	case workload.OpBarrier:
		timedOut, err = r.barrier(ctx, op)
		if r.awaitingBarrier {
			r.measuredUntil, r.awaitingBarrier = time.Now(), false
		}
		return timedOut, err
	case workload.OpSleep:
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(op.Duration.Duration):
			return false, nil
		}
	case workload.OpDelete:
		return false, r.deleteWorkloads(ctx, op.Workloads)
	case workload.OpScale:
		return false, r.scale(ctx, op.Workload, op.Replicas.Value)
	case workload.OpChurn:
		return false, r.churn(ctx, op)
	case workload.OpRollingUpdate:
		return r.rollingUpdate(ctx, op)
	}
	// Validation admits only the ops above.
	return false, fmt.Errorf("unknown op %q", op.Op)
}

func (r *run) createNodes(ctx context.Context, groups []string) error {
	nodes := r.gen.Nodes(groups...)
	occupied := r.gen.OccupiedPods(nodes)
	if len(occupied) > 0 && r.backend.Shared() {
		return fmt.Errorf("cluster.nodeGroups[].occupied: pods of another scheduler are put only on a cluster of the run's own; use --backend memory or embedded, not %s",
			r.backend.Name())
	}
	for _, n := range nodes {
		r.zones[n.Name] = n.Labels[generate.ZoneLabel]
		r.nodes[n.Name] = n
	}
	err := r.parallel(ctx, len(nodes), nil, func(i int) error { return r.createNode(ctx, nodes[i]) })
	if err != nil {
		return err
	}
	if err := r.waitSchedulerSeesNodes(ctx, nodes); err != nil {
		return err
	}
	return r.createOccupied(ctx, occupied)
}

// createOccupied binds the pods of other schedulers that node groups'
// occupied asks for, counts them as not the run's, and waits until the
// scheduler has seen them, so that the run's first pod finds the nodes as
// full as the file says.
func (r *run) createOccupied(ctx context.Context, pods []*v1.Pod) error {
	if len(pods) == 0 {
		return nil
	}
	if err := r.workloads.EnsureNamespace(ctx, workload.OccupiedNamespace); err != nil {
		return err
	}
	bound := make([]*v1.Pod, len(pods))
	err := r.parallel(ctx, len(pods), nil, func(i int) error {
		p, err := r.workloads.CreateBoundPod(ctx, pods[i])
		bound[i] = p
		return err
	})
	if err != nil {
		return err
	}
	for _, p := range bound {
		r.occupy(p)
	}
	return sim.WaitSchedulerSeesPods(ctx, r.sched.Informers.Core().V1().Pods().Lister(), bound, 10*time.Minute)
}

// createNode creates a generated node with its status, as a kubelet would.
func (r *run) createNode(ctx context.Context, n *v1.Node) error {
	n = n.DeepCopy()
	r.backend.PrepareNode(n)
	_, err := sim.CreateNode(ctx, r.client, n)
	return err
}

// waitSchedulerSeesNodes waits until the scheduler's cache holds the nodes
// just created, with their status.
func (r *run) waitSchedulerSeesNodes(ctx context.Context, nodes []*v1.Node) error {
	return sim.WaitSchedulerSeesNodes(ctx, r.sched.NodeView, nodes, 10*time.Minute)
}

// parallel runs fn(0..n-1) on the run's workers, waiting for limiter (if
// any) before each, and returns the first error.
func (r *run) parallel(ctx context.Context, n int, limiter *rate.Limiter, fn func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range min(r.opts.Workers, max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		}()
	}
	for i := range n {
		if limiter != nil {
			if err := limiter.Wait(ctx); err != nil {
				break
			}
		}
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// createWorkloads creates each instance's controller objects and claims,
// then its pods: all at once, or at ratePerSecond pods.
func (r *run) createWorkloads(ctx context.Context, names []string, ratePerSecond int, measured bool) error {
	insts := r.gen.Workloads(r.profile.SchedulerName, names...)
	var pods []*v1.Pod
	for _, inst := range insts {
		if err := r.workloads.CreateOwners(ctx, inst); err != nil {
			return err
		}
		r.created[inst.Workload.Name] = append(r.created[inst.Workload.Name], inst)
		if r.controllers != nil && inst.Owner != nil {
			r.controllers.asked(inst, len(inst.Pods), measured)
			continue
		}
		pods = append(pods, inst.Pods...)
	}
	var limiter *rate.Limiter
	if ratePerSecond > 0 {
		limiter = rate.NewLimiter(rate.Limit(ratePerSecond), 1)
	}
	if measured && r.firstMeasured.IsZero() {
		r.firstMeasured = time.Now()
	}
	return r.parallel(ctx, len(pods), limiter, func(i int) error {
		_, err := r.workloads.CreatePod(ctx, pods[i], nil, measured)
		return err
	})
}

// barrier waits until every pod created so far is bound (Scheduled) or
// bound or found unschedulable (Attempted).
func (r *run) barrier(ctx context.Context, op workload.Op) (bool, error) {
	deadline := time.Now().Add(op.Timeout.Duration)
	lastReport := time.Time{}
	for {
		created, bound, unsched := r.tracker.Progress()
		if r.opts.Progress != nil && time.Since(lastReport) >= time.Second {
			r.opts.Progress(op.Op, created, bound, unsched)
			lastReport = time.Now()
		}
		done := bound == created
		if op.Until == workload.UntilAttempted {
			done = bound+unsched == created
		}
		if r.controllers != nil {
			done = done && r.controllers.made(created)
		}
		if done {
			if r.opts.Progress != nil {
				r.opts.Progress(op.Op, created, bound, unsched)
			}
			return false, nil
		}
		if time.Now().After(deadline) {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// deleteWorkloads deletes the pods, claims and controllers of workloads.
func (r *run) deleteWorkloads(ctx context.Context, names []string) error {
	if len(names) == 0 {
		for n := range r.created {
			names = append(names, n)
		}
	}
	var errs []error
	for _, n := range names {
		for _, inst := range r.created[n] {
			errs = append(errs, r.workloads.Delete(ctx, inst))
		}
		delete(r.created, n)
	}
	return errors.Join(errs...)
}
