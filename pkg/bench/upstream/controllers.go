package upstream

import (
	"context"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubernetes/pkg/controller/namespace"

	"github.com/placer-dev/placer/internal/gc"
)

// startControllers runs what scheduler_perf runs beside the scheduler: the
// garbage collector (one worker, synced every 5 s) and the namespace
// controller, on the scheduler's informers as there. They cost CPU on every
// pod event, which an in-process comparison with upstream must pay too.
// The returned func stops them and waits.
func startControllers(ctx context.Context, cfg *rest.Config, client kubernetes.Interface, factory informers.SharedInformerFactory) (func(), error) {
	started := make(chan struct{})
	close(started)
	collector, err := gc.New(ctx, cfg, client, factory, started)
	if err != nil {
		return nil, err
	}
	ns := namespace.NewNamespaceController(ctx, client, collector.Metadata, client.Discovery().ServerPreferredNamespacedResources,
		factory.Core().V1().Namespaces(), 10*time.Hour, v1.FinalizerKubernetes)
	ctx, cancel := context.WithCancel(ctx)
	const syncPeriod = 5 * time.Second
	var wg sync.WaitGroup
	for _, run := range []func(){
		func() { collector.Run(ctx, 1, syncPeriod) },
		func() { collector.Sync(ctx, collector.Discovery, syncPeriod) },
		func() { ns.Run(ctx, 5) },
		func() {
			for ctx.Err() == nil {
				collector.Mapper.Reset()
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
	collector.MetadataInformers.Start(ctx.Done())
	return func() {
		cancel()
		wg.Wait()
		collector.MetadataInformers.Shutdown()
	}, nil
}
