package explain

import "github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"

// Metrics on the scheduler's /metrics (the component-base legacy registry).
var (
	explanations = pluginkit.Counter("explain", "explanations_total", "outcome", "Explanations Explain wrote, by outcome: placed, unschedulable (unchanged ones are not written again), failed (not computed or not written).")

	// registerMetrics registers the metrics once per process (see
	// pluginkit.Registerer for why not at init).
	registerMetrics = pluginkit.Registerer(explanations)
)

const (
	outcomePlaced        = "placed"
	outcomeUnschedulable = "unschedulable"
	outcomeFailed        = "failed"
)
