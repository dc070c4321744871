package zonespread

import "github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"

// Metrics on the scheduler's /metrics (the component-base legacy registry).
// Every label takes its values from the fixed sets below, so the number of
// series does not grow with the cluster or the number of workloads.
var (
	filterRejections = pluginkit.Counter("zonespread", "filter_rejections_total", "reason", "Nodes ZoneSpread's Filter rejected, per node evaluated, by reason: max_skew (the node's domain would exceed maxSkew over the emptiest domain that can take the pod), missing_label (the node lacks a hard constraint's topology key).")
	attempts         = pluginkit.Counter("zonespread", "attempts_total", "decision", "Scheduling attempts ZoneSpread saw (once per attempt, in PreFilter), by decision: spread (a maxSkew bound applied), bound_waived (no domain can take the pod, so the bound is lifted rather than deadlock), score_only (no constraint has maxSkew), opt_out (annotation), own_constraints (the pod has topologySpreadConstraints), not_replicated (no controller ZoneSpread spreads).")

	// registerMetrics registers the metrics once per process (see
	// pluginkit.Registerer for why not at init).
	registerMetrics = pluginkit.Registerer(filterRejections, attempts)
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
