package statefulsetaware

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Metrics on the scheduler's /metrics (the component-base legacy registry).
var (
	quorumRejections = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      "placer",
		Subsystem:      "statefulset",
		Name:           "quorum_guard_rejections_total",
		Help:           "Nodes StatefulSetAware rejected, by reason: zone, node, primary_apart, fewest_per_zone (per node evaluated), unprotectable (per scheduling attempt).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"reason"})
	placements = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      "placer",
		Subsystem:      "statefulset",
		Name:           "placements_total",
		Help:           "StatefulSet replicas bound, by the rule that decided the zone: volume_zone, primary_isolated, ordinal_zone, fewest_per_zone, other.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"rule"})

	registerOnce sync.Once
)

func registerMetrics() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(quorumRejections, placements)
	})
}

// Filter's rejection reasons, as quorum_guard_rejections_total labels them.
const (
	reasonZone          = "zone"
	reasonNode          = "node"
	reasonPrimaryApart  = "primary_apart"
	reasonFewestPerZone = "fewest_per_zone"
	reasonUnprotectable = "unprotectable"
)

func rejectionCounters() map[string]metrics.CounterMetric {
	out := map[string]metrics.CounterMetric{}
	for _, r := range []string{reasonZone, reasonNode, reasonPrimaryApart, reasonFewestPerZone, reasonUnprotectable} {
		out[r] = quorumRejections.WithLabelValues(r)
	}
	return out
}
