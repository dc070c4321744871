package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubernetes/pkg/controller/deployment"
	"k8s.io/kubernetes/pkg/controller/job"
	"k8s.io/kubernetes/pkg/controller/namespace"
	"k8s.io/kubernetes/pkg/controller/replicaset"
	"k8s.io/kubernetes/pkg/controller/statefulset"

	"github.com/placer-dev/placer/internal/gc"
)

// Controllers says which of kube-controller-manager's controllers run
// beside an embedded control plane. The garbage collector always runs: it is
// what deletes a Deployment's ReplicaSets and pods when the Deployment goes.
type Controllers struct {
	// Workloads runs the Deployment, ReplicaSet, StatefulSet and Job
	// controllers, for a cluster whose pods they make (the local cluster).
	// The harness leaves them off: it acts as them (Workloads).
	Workloads bool
	// Namespaces runs the namespace controller, which empties a namespace
	// being deleted, as scheduler_perf runs it.
	Namespaces bool
	// Workers per controller, and GCWorkers for the garbage collector.
	Workers, GCWorkers int
	// GCSync is how often the garbage collector looks for new resources.
	GCSync time.Duration
}

// burstReplicas is the ReplicaSet controller's burst, kube-controller-manager's default.
const burstReplicas = 500

// StartControllers builds the chosen controllers on factory and runs them
// until the returned stop is called (or ctx ends); stop waits for them. The
// caller starts factory after this returns (informers added to a started
// factory need another Start), then closes started.
func StartControllers(ctx context.Context, cfg *rest.Config, client kubernetes.Interface,
	factory informers.SharedInformerFactory, started <-chan struct{}, c Controllers) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		if err != nil {
			cancel()
		}
	}()
	collector, err := gc.New(ctx, cfg, client, factory, started)
	if err != nil {
		return nil, err
	}
	runs := []func(){
		func() { collector.Run(ctx, c.GCWorkers, c.GCSync) },
		func() { collector.Sync(ctx, collector.Discovery, c.GCSync) },
		// New resource kinds (CRDs) become known to the collector when its
		// mapper forgets what it learned, as kube-controller-manager resets it.
		func() {
			for ctx.Err() == nil {
				collector.Mapper.Reset()
				select {
				case <-ctx.Done():
				case <-time.After(c.GCSync):
				}
			}
		},
		func() {
			select {
			case <-started:
				collector.MetadataInformers.Start(ctx.Done())
			case <-ctx.Done():
			}
		},
	}
	if c.Namespaces {
		ns := namespace.NewNamespaceController(ctx, client, collector.Metadata, client.Discovery().ServerPreferredNamespacedResources,
			factory.Core().V1().Namespaces(), 10*time.Hour, v1.FinalizerKubernetes)
		runs = append(runs, func() { ns.Run(ctx, c.Workers) })
	}
	if c.Workloads {
		workloads, err := workloadControllers(ctx, client, factory, c.Workers)
		if err != nil {
			return nil, err
		}
		runs = append(runs, workloads...)
	}
	var wg sync.WaitGroup
	for _, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run()
		}()
	}
	return func() {
		cancel()
		wg.Wait()
		collector.MetadataInformers.Shutdown()
	}, nil
}

// workloadControllers builds the Deployment, ReplicaSet, StatefulSet and Job
// controllers and returns their run funcs.
func workloadControllers(ctx context.Context, client kubernetes.Interface, factory informers.SharedInformerFactory, workers int) ([]func(), error) {
	apps, core, batch := factory.Apps().V1(), factory.Core().V1(), factory.Batch().V1()
	deployments, err := deployment.NewDeploymentController(ctx, apps.Deployments(), apps.ReplicaSets(), core.Pods(), client)
	if err != nil {
		return nil, fmt.Errorf("deployment controller: %w", err)
	}
	replicaSets := replicaset.NewReplicaSetController(ctx, apps.ReplicaSets(), core.Pods(), client, burstReplicas)
	statefulSets := statefulset.NewStatefulSetController(ctx, core.Pods(), apps.StatefulSets(),
		core.PersistentVolumeClaims(), apps.ControllerRevisions(), client)
	jobs, err := job.NewController(ctx, core.Pods(), batch.Jobs(), client)
	if err != nil {
		return nil, fmt.Errorf("job controller: %w", err)
	}
	return []func(){
		func() { deployments.Run(ctx, workers) },
		func() { replicaSets.Run(ctx, workers) },
		func() { statefulSets.Run(ctx, workers) },
		func() { jobs.Run(ctx, workers) },
	}, nil
}
