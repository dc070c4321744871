// Package replay runs a trace (pkg/bench/trace) against a backend with one
// scheduler profile in-process, and measures it as the FGD paper does:
// after each pod, the arrived workload and the unallocated GPU.
package replay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/component-base/metrics/legacyregistry"

	"github.com/placer-dev/placer/pkg/bench/quality"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/stats"
	"github.com/placer-dev/placer/pkg/bench/trace"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
	"github.com/placer-dev/placer/pkg/sim"
)

// Options say how to replay.
type Options struct {
	// RunID labels everything the replay creates.
	RunID    string
	Protocol string
	// Seed and TargetPercent drive the FGD draw; Speed divides the
	// trace's times on the timeline.
	Seed          int64
	TargetPercent float64
	Speed         float64
	// Progress, when set, hears about once a second of the pods offered,
	// bound and found unschedulable.
	Progress func(op string, created, bound, unschedulable int)
}

// GPUSharingWhole is TraceResult.GPUSharing while no profile can share a
// GPU: a pod asking for part of one takes it whole.
const GPUSharingWhole = "whole"

// verdictTimeout bounds the wait for the scheduler's verdict on one pod:
// far longer than any scheduling cycle, so that only a stuck scheduler
// reaches it.
const verdictTimeout = 5 * time.Minute

// state is what the replay knows of its pods from the watch.
type state struct {
	mu sync.Mutex
	// milli is each offered pod's GPU request in milli-GPU; bound, the
	// pods bound; unsched, those found unschedulable, with the reason.
	milli   map[string]int64
	bound   map[string]bool
	unsched map[string]string
	// allocated is the milli-GPU the bound pods asked for: the paper's
	// allocated GPU. While a sharing pod holds a whole device, the rest of
	// that device is idle and counts as unallocated.
	allocated int64
	waiters   map[string]chan struct{}
	// everBound and unschedSeen outlive a pod's deletion: the timeline
	// judges a pod as it departs.
	everBound   map[string]bool
	unschedSeen map[string]bool
}

type replay struct {
	t       *trace.Trace
	profile *runner.Profile
	backend sim.Backend
	client  kubernetes.Interface
	opts    Options
	tracker *runner.Tracker
	// workloads creates the pods, as sim creates every run's pods.
	workloads *sim.Workloads
	st        *state
	tr        *result.TraceResult
	// lastProgress rate-limits Progress.
	lastProgress time.Time
	offered      int
}

// Run replays t with profile on backend (the caller's to close).
func Run(ctx context.Context, t *trace.Trace, profile *runner.Profile, backend sim.Backend, opts Options) (*result.Result, error) {
	r := &replay{t: t, profile: profile, backend: backend, client: backend.Client(), opts: opts, tracker: runner.NewTracker(),
		st: &state{milli: map[string]int64{}, everBound: map[string]bool{}, unschedSeen: map[string]bool{}, bound: map[string]bool{}, unsched: map[string]string{}, waiters: map[string]chan struct{}{}},
		tr: &result.TraceResult{Trace: t.Name, Protocol: opts.Protocol, GPUSharing: GPUSharingWhole, Nodes: len(t.Nodes),
			GPUCapacityMilli: t.GPUCapacityMilli(), Placed: map[string]int{}, Failed: map[string]int{}}}
	r.workloads = sim.NewWorkloads(backend, nil, opts.RunID)
	r.workloads.OnPodCreated = r.tracker.Created
	if r.tr.GPUCapacityMilli == 0 {
		return nil, fmt.Errorf("trace %s: the nodes have no GPUs, so unallocated GPU means nothing", t.Name)
	}
	// Everything the protocol needs is checked before anything starts.
	var pods []trace.Pod
	var events []trace.Event
	var err error
	switch opts.Protocol {
	case trace.ProtocolFGD:
		seed := opts.Seed
		r.tr.Seed, r.tr.TargetPercent = &seed, opts.TargetPercent
		pods, err = trace.DrawFGD(t, opts.Seed, opts.TargetPercent)
	case trace.ProtocolTimeline:
		r.tr.Speed = opts.Speed
		events, err = trace.Timeline(t, opts.Speed)
	default:
		err = fmt.Errorf("protocol %q: want %s or %s", opts.Protocol, trace.ProtocolFGD, trace.ProtocolTimeline)
	}
	if err != nil {
		return nil, err
	}

	start := time.Now()
	mem := runner.StartMemorySampler(ctx, 250*time.Millisecond)
	res := &result.Result{Profile: profile.Name, Backend: backend.Name(), Trace: r.tr}
	defer func() { res.PeakHeap, res.PeakRSS = mem.Finish() }()
	legacyregistry.Reset()
	sched, err := inprocscheduler.Start(ctx, r.client, inprocscheduler.Options{Config: profile.Config, Registry: profile.Registry, RESTConfig: backend.RESTConfig()})
	if err != nil {
		return nil, err
	}
	defer sched.Stop()
	stopWatch, err := r.watch(ctx)
	if err != nil {
		return nil, err
	}
	defer stopWatch()

	t0 := time.Now()
	nodes, err := r.createNodes(ctx, sched)
	res.Phases = append(res.Phases, result.PhaseResult{Op: "createNodes", Duration: time.Since(t0)})
	if err != nil {
		return nil, err
	}
	firstPod := time.Now()
	var runErr error
	if opts.Protocol == trace.ProtocolFGD {
		runErr = r.offerFGD(ctx, pods)
	} else {
		runErr = r.offerTimeline(ctx, events)
	}
	res.Phases = append(res.Phases, result.PhaseResult{Op: "offer-" + opts.Protocol, Index: 1, Duration: time.Since(firstPod)})
	res.Wall = time.Since(start)
	r.tr.PodsOffered = r.offered
	r.tr.Finish()
	r.summarize(res, nodes, firstPod)
	hist, err := runner.SchedulerHistograms(profile.SchedulerName)
	if err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("reading the scheduler's metrics: %w", err))
	}
	res.Scheduler = hist
	res.PreemptionAttempts = runner.PreemptionAttempts()
	return res, runErr
}

// createNodes registers the trace's nodes and waits until the scheduler
// sees them all, so that no pod is judged against part of the cluster.
func (r *replay) createNodes(ctx context.Context, sched *inprocscheduler.Scheduler) ([]*v1.Node, error) {
	_, err := r.client.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating namespace %s: %w", Namespace, err)
	}
	r.backend.UsedNamespace(Namespace, err == nil)
	var nodes []*v1.Node
	for i := range r.t.Nodes {
		n := node(&r.t.Nodes[i], r.opts.RunID)
		r.backend.PrepareNode(n)
		created, err := sim.CreateNode(ctx, r.client, n)
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, created)
	}
	if err := sim.WaitSchedulerSeesNodes(ctx, sched.Informers.Core().V1().Nodes().Lister(), nodes, 2*time.Minute); err != nil {
		return nil, fmt.Errorf("waiting for the scheduler to see the %d nodes: %w", len(nodes), err)
	}
	return nodes, nil
}

// watch follows the replay's pods: the tracker's records, the GPUs bound
// pods hold, and a signal to whoever waits for a pod's verdict.
func (r *replay) watch(ctx context.Context) (func(), error) {
	return runner.WatchRunPods(ctx, r.client, r.opts.RunID, Namespace,
		func(pod *v1.Pod) { r.tracker.Observe(pod, time.Now()); r.st.observe(pod) },
		func(pod *v1.Pod) { r.st.forget(pod.Name) })
}

func (s *state) observe(pod *v1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	decided := false
	if pod.Spec.NodeName != "" {
		if !s.bound[pod.Name] {
			s.bound[pod.Name], s.everBound[pod.Name] = true, true
			s.allocated += s.milli[pod.Name]
			delete(s.unsched, pod.Name)
		}
		decided = true
	} else if ok, reason := unschedulable(pod); ok {
		s.unsched[pod.Name], s.unschedSeen[pod.Name] = reason, true
		decided = true
	}
	if ch := s.waiters[pod.Name]; decided && ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// forget releases what a deleted pod held.
func (s *state) forget(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bound[name] {
		s.allocated -= s.milli[name]
	}
	delete(s.bound, name)
	delete(s.unsched, name)
}

// summarize fills the result's outcomes, placements, packing and the pace
// at which pods were bound.
func (r *replay) summarize(res *result.Result, nodes []*v1.Node, firstPod time.Time) {
	zones := map[string]string{}
	var qn []quality.Node
	for _, n := range nodes {
		zones[n.Name] = ""
		qn = append(qn, quality.Node{Name: n.Name, Allocatable: n.Status.Allocatable})
	}
	r.tracker.Fill(res, zones)
	res.Pods = r.offered
	res.Quality = quality.Compute(qn, res.Placements(), nil)
	binds := r.tracker.BindTimes(func(*v1.Pod) bool { return true })
	last := firstPod
	for _, b := range binds {
		if b.After(last) {
			last = b
		}
	}
	res.ThroughputTimeline = stats.ThroughputSamples(firstPod, last.Add(time.Second), time.Second, binds)
	res.Throughput = stats.Summarize(res.ThroughputTimeline)
}

func (r *replay) progress(force bool) {
	if r.opts.Progress == nil || (!force && time.Since(r.lastProgress) < time.Second) {
		return
	}
	r.lastProgress = time.Now()
	_, bound, unsched := r.tracker.Progress()
	r.opts.Progress("offer", r.offered, bound, unsched)
}
