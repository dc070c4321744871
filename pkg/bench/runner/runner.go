// Package runner runs a workload file against a backend with one scheduler
// profile running in-process, and measures what happened: throughput as
// scheduler_perf samples it, each pod's creation-to-bind latency, outcomes,
// the time of each op, and the harness's peak memory.
package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-base/metrics/legacyregistry"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/quality"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/stats"
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

// run is the state of one profile's run.
type run struct {
	file    *workload.File
	profile *Profile
	backend sim.Backend
	client  kubernetes.Interface
	gen     *generate.Generator
	opts    Options
	tracker *podTracker
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
	sched         *inprocscheduler.Scheduler
}

// Run runs f with profile on backend. The backend is the caller's to close.
func Run(ctx context.Context, f *workload.File, profile *Profile, backend sim.Backend, opts Options) (*result.Result, error) {
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	r := &run{file: f, profile: profile, backend: backend, client: backend.Client(), opts: opts,
		gen: generate.New(f, opts.RunID), tracker: &podTracker{pods: map[types.UID]*podRecord{}, obs: opts.Observer},
		created: map[string][]*generate.Instance{}, zones: map[string]string{}, measureAll: true,
		nodes: map[string]*v1.Node{}, lost: map[string]string{}, occupied: map[string]occupancy{}}
	if backend.Shared() {
		r.gen.NodePrefix = opts.RunID + "-"
	}
	r.workloads = sim.NewWorkloads(backend, r.gen, opts.RunID)
	r.workloads.OnPodCreated = r.tracker.created
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
	start := time.Now()
	mem := startMemorySampler(ctx, 250*time.Millisecond)
	res := &result.Result{Profile: profile.Name, Backend: backend.Name()}
	defer func() { res.PeakHeap, res.PeakRSS = mem.finish() }()

	// Each profile's scheduler metrics start from zero.
	legacyregistry.Reset()
	stopWatch, err := r.watchPods(ctx)
	if err != nil {
		return nil, err
	}
	defer stopWatch()
	sched, err := inprocscheduler.Start(ctx, r.client, inprocscheduler.Options{Config: profile.Config, Registry: profile.Registry, RESTConfig: backend.RESTConfig()})
	if err != nil {
		return nil, err
	}
	defer sched.Stop()
	r.sched = sched
	// Claims of StatefulSets need their classes and a provisioner, which the
	// harness provides as it provides the controllers.
	provCtx, stopProv := context.WithCancel(ctx)
	defer stopProv()
	go sim.RunProvisioner(provCtx, r.client)

	if f.Cluster.Snapshot != "" {
		if err := r.loadSnapshot(ctx); err != nil {
			return nil, err
		}
	}
	var runErr error
	for i, op := range f.Ops {
		if opts.Observer != nil {
			opts.Observer.OpStarted(i, op.Op)
		}
		t0 := time.Now()
		timedOut, err := r.do(ctx, i, op)
		res.Phases = append(res.Phases, result.PhaseResult{Op: op.Op, Index: i, Duration: time.Since(t0), TimedOut: timedOut})
		if err != nil {
			runErr = fmt.Errorf("ops[%d] (%s): %w", i, op.Op, err)
			break
		}
	}
	res.Wall = time.Since(start)
	if opts.Observer != nil {
		opts.Observer.Finished()
	}
	r.summarize(res)
	hist, err := collectSchedulerHistograms(profile.SchedulerName)
	if err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("reading the scheduler's metrics: %w", err))
	}
	res.Scheduler = hist
	res.PreemptionAttempts = preemptionAttempts()
	return res, runErr
}

func (r *run) summarize(res *result.Result) {
	recs := r.records()
	res.SetPlacements(recs.placements())
	res.Drills, res.Fills = r.drills, r.fills
	var reference v1.ResourceList
	if r.file.Quality != nil {
		reference = r.file.Quality.ReferencePod
	}
	res.Quality = quality.Compute(r.qualityNodes(), res.Placements(), reference)
	binds, lat := recs.tally(res)
	last := r.firstMeasured
	for _, b := range binds {
		if b.After(last) {
			last = b
		}
	}
	if !r.firstMeasured.IsZero() {
		res.ThroughputTimeline = stats.ThroughputSamples(r.firstMeasured, last.Add(time.Second), time.Second, binds)
		res.Throughput = stats.Summarize(res.ThroughputTimeline)
	}
	res.Latency = stats.Summarize(lat)
	res.LatencyCDF = stats.CDF(lat, 100)
}

// watchPods follows the run's pods from the moment before any is created.
func (r *run) watchPods(ctx context.Context) (func(), error) {
	return WatchRunPods(ctx, r.client, r.opts.RunID, "", func(pod *v1.Pod) {
		now := time.Now()
		r.seen(pod, now)
		r.tracker.observe(pod, now)
	},
		func(pod *v1.Pod) { r.tracker.forget(pod.UID) })
}

// WatchRunPods calls observe with every added or updated pod carrying the
// run's label (in namespace; empty: all), and forget with every deleted one,
// until the returned func stops it. It returns once the informer has synced.
func WatchRunPods(ctx context.Context, client kubernetes.Interface, runID, namespace string, observe, forget func(*v1.Pod)) (func(), error) {
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.LabelSelector = generate.RunLabel + "=" + runID
		}))
	inf := factory.Core().V1().Pods().Informer()
	onPod := func(obj any) {
		if pod, ok := obj.(*v1.Pod); ok {
			observe(pod)
		}
	}
	onDelete := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if pod, ok := obj.(*v1.Pod); ok {
			forget(pod)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onPod, UpdateFunc: func(_, obj any) { onPod(obj) }, DeleteFunc: onDelete,
	}); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return func() { cancel(); factory.Shutdown() }, nil
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
		return false, r.createWorkloads(ctx, op.Workloads, op.Rate.Value, r.measureAll || op.Measure)
	case workload.OpBarrier:
		return r.barrier(ctx, op)
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
	}
	// Validation admits only the ops above.
	return false, fmt.Errorf("unknown op %q", op.Op)
}

func (r *run) createNodes(ctx context.Context, groups []string) error {
	nodes := r.gen.Nodes(groups...)
	for _, n := range nodes {
		r.zones[n.Name] = n.Labels[generate.ZoneLabel]
		r.nodes[n.Name] = n
	}
	err := r.parallel(ctx, len(nodes), nil, func(i int) error { return r.createNode(ctx, nodes[i]) })
	if err != nil {
		return err
	}
	return r.waitSchedulerSeesNodes(ctx, nodes)
}

// createNode creates a generated node with its status, as a kubelet would.
func (r *run) createNode(ctx context.Context, n *v1.Node) error {
	n = n.DeepCopy()
	r.backend.PrepareNode(n)
	_, err := sim.CreateNode(ctx, r.client, n)
	return err
}

// waitSchedulerSeesNodes waits until the scheduler's own node informer holds
// the nodes just created, with their status.
func (r *run) waitSchedulerSeesNodes(ctx context.Context, nodes []*v1.Node) error {
	return sim.WaitSchedulerSeesNodes(ctx, r.sched.Informers.Core().V1().Nodes().Lister(), nodes, 10*time.Minute)
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
		created, bound, unsched := r.tracker.progress()
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
