package runner

import (
	"github.com/placer-dev/placer/pkg/bench/measure"
	"github.com/placer-dev/placer/pkg/bench/quality"
	"github.com/placer-dev/placer/pkg/bench/result"
)

// placements are the run's pods now, named with their zones and workloads.
func (r *run) placements() []result.Placement {
	return measure.Summary{Zones: r.zones}.Placements(r.tracker.Records())
}

// qualityNodes are the nodes at the end of the run that no drill has
// taken down.
func (r *run) qualityNodes() []quality.Node {
	var out []quality.Node
	for _, name := range r.liveNodes() {
		n := r.nodes[name]
		o := r.occupied[name]
		out = append(out, quality.Node{Name: name, Zone: r.zones[name], Allocatable: n.Status.Allocatable,
			Occupied: o.requests, OccupiedPods: o.pods})
	}
	return out
}
