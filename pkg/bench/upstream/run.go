package upstream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/placer-dev/placer/pkg/sim"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-base/metrics/legacyregistry"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/stats"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
)

// What scheduler_perf's harness does, copied in number so that the two
// harnesses load the API server alike.
const (
	// podWorkers create pods in parallel (test/utils.CreatePod).
	podWorkers = 30
	// waitTimeout bounds each wait for pods (waitUntilPodsScheduledInNamespace).
	waitTimeout = 10 * time.Minute
	// throughputInterval is the sampling interval of scheduler_perf's
	// throughput collector.
	throughputInterval = time.Second
)

// Options tune a run.
type Options struct {
	// RunID labels everything the run creates (generate.RunLabel).
	RunID string
	// Progress, when set, is called about once a second while the run
	// waits for pods.
	Progress func(op string, created, bound, unschedulable int)
	// WaitTimeout bounds each wait for pods; 0 means scheduler_perf's 10
	// minutes.
	WaitTimeout time.Duration
}

// window is a metrics collection window: scheduler_perf's collectMetrics
// on a createPods op, or startCollectingMetrics … stopCollectingMetrics.
type window struct {
	namespaces map[string]bool
	selector   labels.Selector
	start, end time.Time
}

func (w *window) covers(pod *v1.Pod) bool {
	return w.namespaces[pod.Namespace] && w.selector.Matches(labels.Set(pod.Labels))
}

// createdObject is an object createAny or churn made, which a shared
// backend's reset does not cover and the run deletes itself.
type createdObject struct {
	kind      *objectKind
	namespace string
	name      string
}

type executor struct {
	plan    *Plan
	profile *runner.Profile
	backend sim.Backend
	client  kubernetes.Interface
	opts    Options
	memory  bool // the memory backend applies no API defaults

	tracker *runner.Tracker
	// workloads creates the pods, as sim creates every run's pods.
	workloads *sim.Workloads
	pods      corelisters.PodLister
	// runSelector selects the run's objects (generate.RunLabel).
	runSelector labels.Selector
	sched       *inprocscheduler.Scheduler

	// pending is scheduler_perf's numPodsScheduledPerNamespace: the pods a
	// barrier waits for, by namespace; a namespace's presence means the run
	// created it.
	pending map[string]int
	mu      sync.Mutex // guards open and zones, which pod creators read
	open    *window
	windows []*window
	zones   map[string]string
	owners  sync.Map // "<kind>/<namespace>/<name>" -> types.UID of createAny objects
	made    []createdObject

	bg    sync.WaitGroup // churn and asynchronous deletes
	bgCtx context.Context
}

// Run runs a planned workload with profile on backend (the caller's to
// close) and measures it. Throughput covers the collection windows, as
// scheduler_perf's does; latency covers the pods created inside one.
func Run(ctx context.Context, p *Plan, profile *runner.Profile, backend sim.Backend, opts Options) (*result.Result, error) {
	e := &executor{plan: p, profile: profile, backend: backend, client: backend.Client(), opts: opts,
		memory:  backend.Name() == sim.BackendMemory,
		tracker: runner.NewTracker(), pending: map[string]int{}, zones: map[string]string{}}
	e.workloads = sim.NewWorkloads(backend, nil, opts.RunID)
	e.workloads.OnPodCreated = e.tracker.Created
	start := time.Now()
	mem := runner.StartMemorySampler(ctx, 250*time.Millisecond)
	res := &result.Result{Profile: profile.Name, Backend: backend.Name()}
	defer func() { res.PeakHeap, res.PeakRSS = mem.Finish() }()

	// Each profile's scheduler metrics start from zero, as each
	// scheduler_perf workload's do.
	legacyregistry.Reset()
	sched, err := inprocscheduler.Start(ctx, e.client, inprocscheduler.Options{Config: profile.Config, Registry: profile.Registry, RESTConfig: backend.RESTConfig()})
	if err != nil {
		return nil, err
	}
	defer sched.Stop()
	e.sched = sched
	if err := e.watch(); err != nil {
		return nil, err
	}
	if backend.Name() == sim.BackendEmbedded {
		// What scheduler_perf runs beside the scheduler, on the scheduler's
		// informers as there: the garbage collector (one worker, synced every
		// 5 s) and the namespace controller. They cost CPU on every pod
		// event, which an in-process comparison with upstream must pay too.
		started := make(chan struct{})
		close(started)
		stopControllers, err := sim.StartControllers(ctx, backend.RESTConfig(), e.client, sched.Informers, started,
			sim.Controllers{Namespaces: true, Workers: 5, GCWorkers: 1, GCSync: 5 * time.Second})
		if err != nil {
			return nil, err
		}
		sched.Informers.Start(ctx.Done())
		defer stopControllers()
	}

	bgCtx, stopBG := context.WithCancel(ctx)
	e.bgCtx = bgCtx
	defer e.cleanup()
	defer e.bg.Wait()
	defer stopBG()
	go e.bindClaims(bgCtx)

	var runErr error
	for _, s := range p.Steps {
		t0 := time.Now()
		err := e.do(ctx, s)
		res.Phases = append(res.Phases, result.PhaseResult{Op: s.Code, Index: s.Index, Duration: time.Since(t0)})
		if err != nil {
			runErr = fmt.Errorf("%s:%d: op %d (%s): %w", p.File.Path, s.Line, s.Index, s.Code, err)
			break
		}
	}
	// A window left open (no stopCollectingMetrics) still reports.
	e.mu.Lock()
	if e.open != nil {
		e.open.end = time.Now()
		e.open = nil
	}
	e.mu.Unlock()
	stopBG()
	e.bg.Wait()
	res.Wall = time.Since(start)
	e.summarize(res)
	hist, err := runner.SchedulerHistograms(profile.SchedulerName)
	if err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("reading the scheduler's metrics: %w", err))
	}
	res.Scheduler = hist
	res.PreemptionAttempts = runner.PreemptionAttempts()
	return res, runErr
}

// summarize fills res from the tracker; throughput is sampled per window,
// from the window's start to its end, over the binds of the pods it covers,
// and the windows' samples pooled.
func (e *executor) summarize(res *result.Result) {
	e.mu.Lock()
	zones := make(map[string]string, len(e.zones))
	for k, v := range e.zones {
		zones[k] = v
	}
	windows := e.windows
	e.mu.Unlock()
	e.tracker.Fill(res, zones)
	var samples []float64
	for _, w := range windows {
		var binds []time.Time
		for _, t := range e.tracker.BindTimes(w.covers) {
			if !t.Before(w.start) && !t.After(w.end) {
				binds = append(binds, t)
			}
		}
		samples = append(samples, stats.ThroughputSamples(w.start, w.end, throughputInterval, binds)...)
	}
	res.Throughput = stats.Summarize(samples)
}

// watch follows the run's pods through the scheduler's own pod informer,
// as scheduler_perf's collectors do (a second watch would cost the API
// server and this process their share): the tracker records binds, and
// the lister answers barriers. The scheduler starts before any pod is
// created, so no event is missed.
func (e *executor) watch() error {
	inf := e.sched.Informers.Core().V1().Pods()
	observe := func(obj any) {
		if pod, ok := obj.(*v1.Pod); ok && pod.Labels[generate.RunLabel] == e.opts.RunID {
			e.tracker.Observe(pod, time.Now())
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: observe, UpdateFunc: func(_, obj any) { observe(obj) },
	}); err != nil {
		return err
	}
	e.pods = inf.Lister()
	e.runSelector = labels.SelectorFromSet(labels.Set{generate.RunLabel: e.opts.RunID})
	return nil
}

// runPods lists the run's pods of a namespace matching sel.
func (e *executor) runPods(ns string, sel labels.Selector) ([]*v1.Pod, error) {
	pods, err := e.pods.Pods(ns).List(sel)
	if err != nil {
		return nil, err
	}
	out := pods[:0:0]
	for _, p := range pods {
		if e.runSelector.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (e *executor) do(ctx context.Context, s *Step) error {
	switch s.Code {
	case OpCreateNodes:
		return e.createNodes(ctx, s)
	case OpCreateNamespaces:
		return e.createNamespaces(ctx, s)
	case OpCreatePods:
		return e.createPods(ctx, s)
	case OpDeletePods:
		return e.deletePods(ctx, s)
	case OpCreateAny:
		return e.createAny(ctx, s)
	case OpChurn:
		return e.churn(ctx, s)
	case OpBarrier:
		return e.barrier(ctx, s.Barrier)
	case OpSleep:
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.Duration):
			return nil
		}
	case OpStartCollectingMetrics:
		sel := labels.SelectorFromSet(s.StartCollecting.LabelSelector)
		return e.startWindow(s.StartCollecting.Namespaces, sel)
	case OpStopCollectingMetrics:
		return e.stopWindow()
	}
	// Plan admits only the ops above.
	return fmt.Errorf("unknown op %q", s.Code)
}

func (e *executor) startWindow(namespaces []string, sel labels.Selector) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.open != nil {
		return errors.New("metrics collection is already running: a window opened before the previous one was stopped")
	}
	w := &window{namespaces: map[string]bool{}, selector: sel, start: time.Now()}
	for _, ns := range namespaces {
		w.namespaces[ns] = true
	}
	e.open = w
	e.windows = append(e.windows, w)
	return nil
}

func (e *executor) stopWindow() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.open == nil {
		return errors.New("stopCollectingMetrics without startCollectingMetrics")
	}
	e.open.end = time.Now()
	e.open = nil
	return nil
}

// measured reports whether an open window covers the pod.
func (e *executor) measured(pod *v1.Pod) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.open != nil && e.open.covers(pod)
}

// label marks an object as the run's, so that a shared backend's reset and
// the run's pod informer find it.
func (e *executor) label(m metav1.Object) {
	l := m.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[generate.RunLabel] = e.opts.RunID
	m.SetLabels(l)
}
