// Package measure is what every executor of a benchmark (a workload file,
// an upstream scheduler_perf configuration, a trace replay) measures a run
// with, so that every format's figures are made alike and land in the same
// result.Result: the in-process scheduler under test, a tracker of the
// run's pods fed by a watch, the process's peak memory, the scheduler's
// histograms, and at the end the placements, throughput timeline, latency
// CDF and placement quality.
package measure

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/component-base/metrics/legacyregistry"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
	"github.com/placer-dev/placer/pkg/sim"
)

// Profile is one scheduler profile under test.
type Profile struct {
	// Name is how reports call it: "default", "placer", or a file's base name.
	Name string
	// Config holds exactly one profile, renamed SchedulerName.
	Config *schedconfig.KubeSchedulerConfiguration
	// SchedulerName is what the run's pods ask for. It is the harness's own
	// ("placer-bench-<name>"), so that on a real cluster neither the
	// cluster's scheduler nor an installed placer-scheduler takes the pods.
	SchedulerName string
	// Registry holds the out-of-tree plugins the scheduler is built with;
	// nil means registry.All(), the plugins placer-scheduler carries. The
	// test kit sets it to benchmark plugins that are not Placer's.
	Registry frameworkruntime.Registry
}

// Options say what a session watches and who hears of it.
type Options struct {
	// RunID is the run's label (generate.RunLabel): the pods carrying it
	// are the run's.
	RunID string
	// Observer, when set, hears of ops and pods as the run goes.
	Observer Observer
	// Namespace limits the watch to one namespace; empty: all.
	Namespace string
	// ThroughScheduler follows the pods through the scheduler's own pod
	// informer, as scheduler_perf's collectors do, instead of a watch of
	// their own (which costs the API server and this process their share).
	ThroughScheduler bool
	// KeepDeleted leaves a deleted pod's record as it was, not marked
	// deleted, so that it counts in the final placement.
	KeepDeleted bool
	// OnPod and OnDelete, when set, hear of each of the run's pods after
	// the tracker has.
	OnPod, OnDelete func(*v1.Pod)
}

// Session is one profile's run being measured: Start it before anything
// of the run is created, run the ops with Phase, then Finish and Stop.
type Session struct {
	// Tracker holds the run's pods; the executor tells it of each pod it
	// creates (Created).
	Tracker *Tracker
	// Scheduler is the scheduler under test, running in this process.
	Scheduler *inprocscheduler.Scheduler
	// Result is the run's result, which Phase, Finish and Stop fill in; the
	// executor adds what only it knows (drills, fills, a trace's figures).
	Result *result.Result

	profile   *Profile
	opts      Options
	start     time.Time
	mem       *memorySampler
	stopWatch func()
}

// memoryEvery is how often the session samples the process's memory.
const memoryEvery = 250 * time.Millisecond

// Start resets the scheduler's metrics, starts sampling memory, starts the
// profile's scheduler against backend (the caller's to close) and watches
// the run's pods. On error nothing is left running.
func Start(ctx context.Context, profile *Profile, backend sim.Backend, opts Options) (*Session, error) {
	s := &Session{Tracker: NewTracker(opts.Observer), profile: profile, opts: opts, start: time.Now(),
		Result: &result.Result{Profile: profile.Name, Backend: backend.Name()}}
	s.mem = startMemorySampler(ctx, memoryEvery)
	// Each profile's scheduler metrics start from zero, as each
	// scheduler_perf workload's do.
	legacyregistry.Reset()
	var err error
	s.Scheduler, err = inprocscheduler.Start(ctx, backend.Client(),
		inprocscheduler.Options{Config: profile.Config, Registry: profile.Registry, RESTConfig: backend.RESTConfig()})
	if err == nil {
		err = s.watch(ctx, backend)
	}
	if err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// watch follows the run's pods from before the first is created.
func (s *Session) watch(ctx context.Context, backend sim.Backend) error {
	observe := func(pod *v1.Pod) {
		s.Tracker.Observe(pod, time.Now())
		if s.opts.OnPod != nil {
			s.opts.OnPod(pod)
		}
	}
	forget := func(pod *v1.Pod) {
		if !s.opts.KeepDeleted {
			s.Tracker.Forget(pod.UID)
		}
		if s.opts.OnDelete != nil {
			s.opts.OnDelete(pod)
		}
	}
	if !s.opts.ThroughScheduler {
		stop, err := WatchRunPods(ctx, backend.Client(), s.opts.RunID, s.opts.Namespace, observe, forget)
		s.stopWatch = stop
		return err
	}
	// The scheduler's informers have synced: no pod of the run exists yet.
	inf := s.Scheduler.Informers.Core().V1().Pods().Informer()
	reg, err := inf.AddEventHandler(podHandler(s.runs, observe, forget))
	if err != nil {
		return err
	}
	s.stopWatch = func() { _ = inf.RemoveEventHandler(reg) }
	return nil
}

// runs reports whether a pod is one of the run's that the session follows.
func (s *Session) runs(pod *v1.Pod) bool {
	return pod.Labels[generate.RunLabel] == s.opts.RunID && (s.opts.Namespace == "" || pod.Namespace == s.opts.Namespace)
}

// settleTimeout bounds the wait for the tracker to catch up with the
// scheduler's pod informer: far longer than the informer takes to hand an
// event to its handlers, so that only a stuck process reaches it.
const settleTimeout = time.Minute

// settle waits, when the pods are followed through the scheduler's
// informer, until the tracker has heard of every pod of the run as that
// informer stores it. The executor's waits read the informer's lister,
// which is updated before the handlers are called: when the last op ends,
// its last binds may not have reached the tracker yet.
func (s *Session) settle(ctx context.Context) error {
	// An interrupted run's figures are partial anyway.
	if !s.opts.ThroughScheduler || ctx.Err() != nil {
		return nil
	}
	lister := s.Scheduler.Informers.Core().V1().Pods().Lister()
	err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, settleTimeout, true, func(context.Context) (bool, error) {
		pods, err := lister.List(labels.SelectorFromSet(labels.Set{generate.RunLabel: s.opts.RunID}))
		if err != nil {
			return false, err
		}
		for _, p := range pods {
			if !s.runs(p) {
				continue
			}
			if rec, ok := s.Tracker.Record(p.UID); !ok || rec.Pod == nil || rec.Pod.ResourceVersion != p.ResourceVersion {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for the pod tracker to catch up with the scheduler's informer: %w", err)
	}
	return nil
}

// Phase runs one op, telling the observer, and records its wall time;
// timedOut reports a wait that gave up.
func (s *Session) Phase(index int, op string, fn func() (timedOut bool, err error)) error {
	if s.opts.Observer != nil {
		s.opts.Observer.OpStarted(index, op)
	}
	t0 := time.Now()
	timedOut, err := fn()
	s.Result.Phases = append(s.Result.Phases, result.PhaseResult{Op: op, Index: index, Duration: time.Since(t0), TimedOut: timedOut})
	return err
}

// Finish ends the measured part of the run: the wall time, the figures of
// sum and the tracker's records, and the scheduler's histograms and
// preemption attempts. The result is filled even when it returns an error
// (the tracker had not caught up, or the metrics could not be read).
func (s *Session) Finish(ctx context.Context, sum Summary) error {
	s.Result.Wall = time.Since(s.start)
	if s.opts.Observer != nil {
		s.opts.Observer.Finished()
	}
	settleErr := s.settle(ctx)
	sum.summarize(s.Result, s.Tracker.Records())
	hist, err := collectSchedulerHistograms(s.profile.SchedulerName)
	s.Result.Scheduler = hist
	s.Result.PreemptionAttempts = preemptionAttempts()
	if err != nil {
		err = fmt.Errorf("reading the scheduler's metrics: %w", err)
	}
	return errors.Join(settleErr, err)
}

// Stop stops the watch and the scheduler, then the memory sampler, whose
// peaks go into the result: they cover the whole run, its clean-up
// included.
func (s *Session) Stop() {
	if s.stopWatch != nil {
		s.stopWatch()
	}
	if s.Scheduler != nil {
		s.Scheduler.Stop()
	}
	s.Result.PeakHeap, s.Result.PeakRSS = s.mem.finish()
}
