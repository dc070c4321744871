package statefulsetaware

import (
	"k8s.io/component-base/metrics"

	"github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"
)

// Metrics on the scheduler's /metrics (the component-base legacy registry).
var (
	quorumRejections = pluginkit.Counter("statefulset", "quorum_guard_rejections_total", "reason", "Nodes StatefulSetAware rejected, by reason: zone, node, primary_apart, fewest_per_zone (per node evaluated), unprotectable (per scheduling attempt).")
	placements       = pluginkit.Counter("statefulset", "placements_total", "rule", "StatefulSet replicas bound, by the rule that decided the zone: volume_zone, primary_isolated, ordinal_zone, fewest_per_zone, other.")

	// registerMetrics registers the metrics once per process (see
	// pluginkit.Registerer for why not at init).
	registerMetrics = pluginkit.Registerer(quorumRejections, placements)
)

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
