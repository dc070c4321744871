package localcluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubernetes/pkg/controller/deployment"
	"k8s.io/kubernetes/pkg/controller/job"
	"k8s.io/kubernetes/pkg/controller/replicaset"
	"k8s.io/kubernetes/pkg/controller/statefulset"

	"github.com/placer-dev/placer/internal/gc"
)

// Worker counts and the ReplicaSet controller's burst follow
// kube-controller-manager's defaults, sized down for a laptop's cluster.
const (
	workers       = 5
	burstReplicas = 500
	gcSyncPeriod  = 30 * time.Second
)

// startControllers builds the Deployment, ReplicaSet, StatefulSet and Job
// controllers and the garbage collector on factory (which the caller
// starts, then closes started) and runs them until ctx ends; the returned
// channel closes when all have returned.
func startControllers(ctx context.Context, cfg *rest.Config, client kubernetes.Interface,
	factory informers.SharedInformerFactory, started <-chan struct{}) (chan struct{}, error) {
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

	// The garbage collector follows every resource by its metadata, found
	// through discovery; it is what deletes a Deployment's ReplicaSets and
	// pods when the Deployment goes.
	collector, err := gc.New(ctx, cfg, client, factory, started)
	if err != nil {
		return nil, err
	}

	var wg sync.WaitGroup
	run := func(fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn()
		}()
	}
	run(func() { deployments.Run(ctx, workers) })
	run(func() { replicaSets.Run(ctx, workers) })
	run(func() { statefulSets.Run(ctx, workers) })
	run(func() { jobs.Run(ctx, workers) })
	run(func() { collector.Run(ctx, workers, gcSyncPeriod) })
	run(func() { collector.Sync(ctx, collector.Discovery, gcSyncPeriod) })
	run(func() {
		<-started
		collector.MetadataInformers.Start(ctx.Done())
	})
	done := make(chan struct{})
	go func() {
		wg.Wait()
		collector.MetadataInformers.Shutdown()
		close(done)
	}()
	return done, nil
}
