// Package gc builds kube-controller-manager's garbage collector for Placer's
// in-process clusters (placer-bench cluster up, and the scheduler_perf
// environment of upstream runs), which otherwise would each wire it up.
package gc

import (
	"context"
	"fmt"

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
)

// Collector is a garbage collector and what the caller needs to run it:
// Run and Sync come from the embedded collector (Sync wants Discovery),
// MetadataInformers must be started, and Mapper may be reset to see new
// resources.
type Collector struct {
	*garbagecollector.GarbageCollector
	Discovery         discovery.DiscoveryInterface
	Mapper            *restmapper.DeferredDiscoveryRESTMapper
	Metadata          metadata.Interface
	MetadataInformers metadatainformer.SharedInformerFactory
}

// New builds a collector that follows every resource by its metadata,
// found through discovery; typed resources come from factory. started is
// closed once the caller has started factory.
func New(ctx context.Context, cfg *rest.Config, client kubernetes.Interface, factory informers.SharedInformerFactory, started <-chan struct{}) (*Collector, error) {
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c := &Collector{Discovery: disc, Metadata: meta,
		Mapper:            restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
		MetadataInformers: metadatainformer.NewSharedInformerFactory(meta, 0)}
	c.GarbageCollector, err = garbagecollector.NewGarbageCollector(ctx, client, meta, c.Mapper, garbagecollector.DefaultIgnoredResources(),
		informerfactory.NewInformerFactory(factory, c.MetadataInformers), started)
	if err != nil {
		return nil, fmt.Errorf("garbage collector: %w", err)
	}
	return c, nil
}
