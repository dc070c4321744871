// Package inprocscheduler runs a kube-scheduler inside the calling process,
// with Placer's plugin registry (or any other) and a KubeSchedulerConfiguration
// read from YAML, decoded, defaulted and validated exactly as the
// placer-scheduler binary does with --config.
package inprocscheduler

import (
	"context"
	"fmt"
	"os"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/scheduler"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/latest"
	kubeschedulerscheme "k8s.io/kubernetes/pkg/scheduler/apis/config/scheme"
	"k8s.io/kubernetes/pkg/scheduler/apis/config/validation"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	"k8s.io/kubernetes/pkg/scheduler/profile"

	"github.com/placer-dev/placer/pkg/registry"
)

// DecodeConfig decodes, defaults and validates a KubeSchedulerConfiguration.
func DecodeConfig(data []byte) (*schedconfig.KubeSchedulerConfiguration, error) {
	obj, gvk, err := kubeschedulerscheme.Codecs.UniversalDecoder().Decode(data, nil, nil)
	if err != nil {
		return nil, err
	}
	cfg, ok := obj.(*schedconfig.KubeSchedulerConfiguration)
	if !ok {
		return nil, fmt.Errorf("want a KubeSchedulerConfiguration, got %s", gvk)
	}
	if err := validation.ValidateKubeSchedulerConfiguration(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// LoadConfig reads a KubeSchedulerConfiguration file; errors name the file.
func LoadConfig(path string) (*schedconfig.KubeSchedulerConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := DecodeConfig(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// DefaultConfig is upstream kube-scheduler's default configuration: one
// profile, "default-scheduler", with the default plugins.
func DefaultConfig() (*schedconfig.KubeSchedulerConfiguration, error) {
	return latest.Default()
}

// Options configure Start.
type Options struct {
	// Config is the scheduler configuration; its profiles are what runs.
	Config *schedconfig.KubeSchedulerConfiguration
	// Registry holds the out-of-tree plugins; nil means registry.All(), the
	// plugins the placer-scheduler binary carries.
	Registry frameworkruntime.Registry
	// RESTConfig is passed to plugins that make clients of their own.
	RESTConfig *rest.Config
}

// Scheduler is a running in-process scheduler.
type Scheduler struct {
	*scheduler.Scheduler
	// Informers is the shared informer factory the scheduler watches through.
	Informers informers.SharedInformerFactory
	cancel    context.CancelFunc
	done      chan struct{}

	// view is NodeView's own snapshot of the scheduler's cache.
	viewMu sync.Mutex
	view   *internalcache.Snapshot
}

// Start builds a scheduler, starts its informers, waits for their caches and
// starts scheduling. Stop (or cancelling ctx) ends it.
func Start(ctx context.Context, client kubernetes.Interface, opts Options) (*Scheduler, error) {
	cfg := opts.Config
	if cfg == nil {
		return nil, fmt.Errorf("inprocscheduler: no configuration given")
	}
	reg := opts.Registry
	if reg == nil {
		reg = registry.All()
	}
	ctx, cancel := context.WithCancel(ctx)
	informerFactory := scheduler.NewInformerFactory(client, 0)
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: client.EventsV1()})
	sched, err := scheduler.New(ctx, client, informerFactory, nil,
		profile.NewRecorderFactory(broadcaster),
		scheduler.WithKubeConfig(opts.RESTConfig),
		scheduler.WithProfiles(cfg.Profiles...),
		scheduler.WithPercentageOfNodesToScore(cfg.PercentageOfNodesToScore),
		scheduler.WithPodMaxBackoffSeconds(cfg.PodMaxBackoffSeconds),
		scheduler.WithPodInitialBackoffSeconds(cfg.PodInitialBackoffSeconds),
		scheduler.WithExtenders(cfg.Extenders...),
		scheduler.WithParallelism(cfg.Parallelism),
		scheduler.WithFrameworkOutOfTreeRegistry(reg),
	)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("creating the scheduler: %w", err)
	}
	broadcaster.StartRecordingToSink(ctx.Done())
	informerFactory.Start(ctx.Done())
	informerFactory.WaitForCacheSync(ctx.Done())
	if err := sched.WaitForHandlersSync(ctx); err != nil {
		cancel()
		return nil, fmt.Errorf("waiting for the scheduler's event handlers: %w", err)
	}
	s := &Scheduler{Scheduler: sched, Informers: informerFactory, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		run(ctx, sched)
		broadcaster.Shutdown()
		informerFactory.Shutdown()
	}()
	return s, nil
}

// run is scheduler.Run, except that it returns only once the scheduling
// cycle in flight has ended. Run returns when ctx ends, with its
// ScheduleOne loop still inside a cycle: a run that starts next in the same
// process (a test's, or a session's in process) would then reset the
// metrics registry while that cycle still counts into it.
func run(ctx context.Context, sched *scheduler.Scheduler) {
	logger := klog.FromContext(ctx)
	sched.SchedulingQueue.Run(logger)
	if sched.APIDispatcher != nil {
		sched.APIDispatcher.Run(logger)
	}
	cycles := make(chan struct{})
	go func() {
		defer close(cycles)
		wait.UntilWithContext(ctx, sched.ScheduleOne, 0)
	}()
	<-ctx.Done()
	if sched.APIDispatcher != nil {
		sched.APIDispatcher.Close()
	}
	// Closing the queue wakes a ScheduleOne waiting for a pod.
	sched.SchedulingQueue.Close()
	<-cycles
	if err := sched.Profiles.Close(); err != nil {
		logger.Error(err, "Failed to close plugins")
	}
}

// NodeView returns the nodes as the scheduler's next cycle will see them:
// those in its cache. The informer's event handlers fill the cache after the
// informer's own store, so a node its lister already holds may not be in
// the cache yet, and a cycle would snapshot a partial cluster (a busy
// machine showed 4896 of 5000 nodes to a run's first pod). Each call brings
// a snapshot of its own up to date, which copies only the nodes changed
// since the last call.
func (s *Scheduler) NodeView() func(name string) *v1.Node {
	s.viewMu.Lock()
	defer s.viewMu.Unlock()
	if s.view == nil {
		s.view = internalcache.NewEmptySnapshot()
	}
	nodes := map[string]*v1.Node{}
	// An error is a snapshot found inconsistent and reset: nothing seen
	// this time, the caller polls again.
	if err := s.Cache.UpdateSnapshot(klog.Background(), s.view); err == nil {
		infos, _ := s.view.NodeInfos().List()
		for _, ni := range infos {
			if n := ni.Node(); n != nil {
				nodes[n.Name] = n
			}
		}
	}
	return func(name string) *v1.Node { return nodes[name] }
}

// Stop ends scheduling and waits for the scheduler and its informers to finish.
func (s *Scheduler) Stop() {
	s.cancel()
	<-s.done
}
