package upstream

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/measure"
	"github.com/placer-dev/placer/pkg/bench/quality"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
	"github.com/placer-dev/placer/pkg/sim"
)

// What scheduler_perf's harness does, copied in number so that the two
// harnesses load the API server alike.
const (
	// podWorkers create pods in parallel (test/utils.CreatePod).
	podWorkers = 30
	// waitTimeout bounds each wait for pods (waitUntilPodsScheduledInNamespace).
	waitTimeout = 10 * time.Minute
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
	// Observer, when set, hears of ops and pods as the run goes (the live
	// metrics of --metrics-addr).
	Observer measure.Observer
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
	profile *measure.Profile
	backend sim.Backend
	client  kubernetes.Interface
	opts    Options
	memory  bool // the memory backend applies no API defaults

	tracker *measure.Tracker
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
func Run(ctx context.Context, p *Plan, profile *measure.Profile, backend sim.Backend, opts Options) (*result.Result, error) {
	e := &executor{plan: p, profile: profile, backend: backend, client: backend.Client(), opts: opts,
		memory: backend.Name() == sim.BackendMemory, pending: map[string]int{}, zones: map[string]string{}}
	// The pods are followed through the scheduler's own pod informer, as
	// scheduler_perf's collectors do: a second watch would cost the API
	// server and this process their share. Its lister answers barriers.
	s, err := measure.Start(ctx, profile, backend, measure.Options{RunID: opts.RunID, Observer: opts.Observer, ThroughScheduler: true})
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	e.tracker, e.sched = s.Tracker, s.Scheduler
	e.workloads = sim.NewWorkloads(backend, nil, opts.RunID)
	e.workloads.OnPodCreated = e.tracker.Created
	e.pods = e.sched.Informers.Core().V1().Pods().Lister()
	e.runSelector = labels.SelectorFromSet(labels.Set{generate.RunLabel: e.opts.RunID})
	if backend.Name() == sim.BackendEmbedded {
		// What scheduler_perf runs beside the scheduler, on the scheduler's
		// informers as there: the garbage collector (one worker, synced every
		// 5 s) and the namespace controller. They cost CPU on every pod
		// event, which an in-process comparison with upstream must pay too.
		started := make(chan struct{})
		close(started)
		stopControllers, err := sim.StartControllers(ctx, backend.RESTConfig(), e.client, e.sched.Informers, started,
			sim.Controllers{Namespaces: true, Workers: 5, GCWorkers: 1, GCSync: 5 * time.Second})
		if err != nil {
			return nil, err
		}
		e.sched.Informers.Start(ctx.Done())
		defer stopControllers()
	}

	bgCtx, stopBG := context.WithCancel(ctx)
	e.bgCtx = bgCtx
	defer e.cleanup()
	defer e.bg.Wait()
	defer stopBG()
	go e.bindClaims(bgCtx)

	var runErr error
	for _, st := range p.Steps {
		err := s.Phase(st.Index, st.Code, func() (bool, error) { return false, e.do(ctx, st) })
		if err != nil {
			runErr = fmt.Errorf("%s:%d: op %d (%s): %w", p.File.Path, st.Line, st.Index, st.Code, err)
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
	return s.Result, errors.Join(runErr, s.Finish(ctx, e.summary()))
}

// summary names the nodes the run made with their zones, judges the final
// placement on them, and samples throughput per collection window.
func (e *executor) summary() measure.Summary {
	e.mu.Lock()
	defer e.mu.Unlock()
	sum := measure.Summary{Zones: make(map[string]string, len(e.zones))}
	names := make([]string, 0, len(e.zones))
	for name, zone := range e.zones {
		sum.Zones[name] = zone
		names = append(names, name)
	}
	// Templates set capacity and allocatable in any mix: the node the
	// scheduler sees, with the API's defaults, is the one to judge on.
	sort.Strings(names)
	nodes := e.sched.Informers.Core().V1().Nodes().Lister()
	for _, name := range names {
		if n, err := nodes.Get(name); err == nil {
			sum.Nodes = append(sum.Nodes, quality.Node{Name: name, Zone: e.zones[name], Allocatable: n.Status.Allocatable})
		}
	}
	for _, w := range e.windows {
		sum.Windows = append(sum.Windows, measure.Window{Start: w.start, End: w.end, Covers: w.covers})
	}
	return sum
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
	// The ops that take the step as it is.
	steps := map[string]func(context.Context, *Step) error{
		OpCreateNodes: e.createNodes, OpCreateNamespaces: e.createNamespaces, OpCreatePods: e.createPods,
		OpDeletePods: e.deletePods, OpCreateAny: e.createAny, OpChurn: e.churn,
	}
	if op, ok := steps[s.Code]; ok {
		return op(ctx, s)
	}
	switch s.Code {
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
