package resourceaware

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Metrics on the scheduler's /metrics (the component-base legacy registry).
// Label values come from the plugin's arguments or from fixed sets, so the
// number of series is bounded by the configuration, never by the cluster.
var (
	filterRejections = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      "placer",
		Subsystem:      "resourceaware",
		Name:           "filter_rejections_total",
		Help:           "Nodes ResourceAware's Filter rejected because the pod would push a resource past its maxRequestedPercent ceiling, per node evaluated, by resource (only resources with a ceiling appear).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"resource"})
	scarcePlacements = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      "placer",
		Subsystem:      "resourceaware",
		Name:           "scarce_placements_total",
		Help:           "Pods that request none of the scarceResources, bound, by node: scarce_node (the node has a scarce resource: steering was outweighed, usually because nothing else fit) or other_node.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"node"})

	registerOnce sync.Once
)

// Values of the node label of scarce_placements_total.
const (
	placementScarceNode = "scarce_node"
	placementOtherNode  = "other_node"
)

// registerMetrics registers the metrics once per process. component-base
// metrics record nothing until registered, so plugins built without New
// (unit tests of other behaviour) leave them untouched.
func registerMetrics() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(filterRejections, scarcePlacements)
	})
}
