package upstream

import (
	"context"
	"fmt"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/controller-manager/pkg/informerfactory"
	"k8s.io/kubernetes/pkg/controller/garbagecollector"
	"k8s.io/kubernetes/pkg/controller/namespace"
)

// startControllers runs what scheduler_perf runs beside the scheduler: the
// garbage collector (one worker, synced every 5 s) and the namespace
// controller, on the scheduler's informers as there. They cost CPU on every
// pod event, which an in-process comparison with upstream must pay too.
// The returned func stops them and waits.
func startControllers(ctx context.Context, cfg *rest.Config, client kubernetes.Interface, factory informers.SharedInformerFactory) (func(), error) {
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	metaFactory := metadatainformer.NewSharedInformerFactory(meta, 0)
	started := make(chan struct{})
	close(started)
	gc, err := garbagecollector.NewGarbageCollector(ctx, client, meta, mapper, garbagecollector.DefaultIgnoredResources(),
		informerfactory.NewInformerFactory(factory, metaFactory), started)
	if err != nil {
		return nil, fmt.Errorf("garbage collector: %w", err)
	}
	ns := namespace.NewNamespaceController(ctx, client, meta, client.Discovery().ServerPreferredNamespacedResources,
		factory.Core().V1().Namespaces(), 10*time.Hour, v1.FinalizerKubernetes)
	ctx, cancel := context.WithCancel(ctx)
	const syncPeriod = 5 * time.Second
	var wg sync.WaitGroup
	for _, run := range []func(){
		func() { gc.Run(ctx, 1, syncPeriod) },
		func() { gc.Sync(ctx, disc, syncPeriod) },
		func() { ns.Run(ctx, 5) },
		func() {
			for ctx.Err() == nil {
				mapper.Reset()
				select {
				case <-ctx.Done():
				case <-time.After(syncPeriod):
				}
			}
		},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run()
		}()
	}
	factory.Start(ctx.Done())
	metaFactory.Start(ctx.Done())
	return func() {
		cancel()
		wg.Wait()
		metaFactory.Shutdown()
	}, nil
}
