package resourceaware

import "github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"

// Metrics on the scheduler's /metrics (the component-base legacy registry).
// Label values come from the plugin's arguments or from fixed sets, so the
// number of series is bounded by the configuration, never by the cluster.
var (
	filterRejections = pluginkit.Counter("resourceaware", "filter_rejections_total", "resource", "Nodes ResourceAware's Filter rejected because the pod would push a resource past its maxRequestedPercent ceiling, per node evaluated, by resource (only resources with a ceiling appear).")
	scarcePlacements = pluginkit.Counter("resourceaware", "scarce_placements_total", "node", "Pods that request none of the scarceResources, bound, by node: scarce_node (the node has a scarce resource: steering was outweighed, usually because nothing else fit) or other_node.")

	// registerMetrics registers the metrics once per process (see
	// pluginkit.Registerer for why not at init).
	registerMetrics = pluginkit.Registerer(filterRejections, scarcePlacements)
)

// Values of the node label of scarce_placements_total.
const (
	placementScarceNode = "scarce_node"
	placementOtherNode  = "other_node"
)
