package zonespread

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// Metrics on the scheduler's /metrics (the component-base legacy registry).
// Every label takes its values from the fixed sets below, so the number of
// series does not grow with the cluster or the number of workloads.
var (
	filterRejections = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      "placer",
		Subsystem:      "zonespread",
		Name:           "filter_rejections_total",
		Help:           "Nodes ZoneSpread's Filter rejected, per node evaluated, by reason: max_skew (the node's domain would exceed maxSkew over the emptiest domain that can take the pod), missing_label (the node lacks a hard constraint's topology key).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"reason"})
	attempts = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace:      "placer",
		Subsystem:      "zonespread",
		Name:           "attempts_total",
		Help:           "Scheduling attempts ZoneSpread saw (once per attempt, in PreFilter), by decision: spread (a maxSkew bound applied), bound_waived (no domain can take the pod, so the bound is lifted rather than deadlock), score_only (no constraint has maxSkew), opt_out (annotation), own_constraints (the pod has topologySpreadConstraints), not_replicated (no controller ZoneSpread spreads).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"decision"})

	registerOnce sync.Once
)

// Values of the reason label of filter_rejections_total.
const (
	reasonMaxSkew      = "max_skew"
	reasonMissingLabel = "missing_label"
)

// decision is a value of the decision label of attempts_total.
type decision string

const (
	decisionSpread         decision = "spread"
	decisionBoundWaived    decision = "bound_waived"
	decisionScoreOnly      decision = "score_only"
	decisionOptOut         decision = "opt_out"
	decisionOwnConstraints decision = "own_constraints"
	decisionNotReplicated  decision = "not_replicated"
)

// registerMetrics registers the metrics once per process. component-base
// metrics record nothing until registered, so plugins built without New
// (unit tests of other behaviour) leave them untouched.
func registerMetrics() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(filterRejections, attempts)
	})
}
