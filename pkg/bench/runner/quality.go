package runner

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/placer-dev/placer/pkg/bench/measure"
	"github.com/placer-dev/placer/pkg/bench/quality"
	"github.com/placer-dev/placer/pkg/bench/result"
)

// placements are the run's pods now, named with their zones and workloads.
func (r *run) placements() []result.Placement {
	return measure.Summary{Zones: r.zones, DeploymentOf: r.deploymentOf()}.Placements(r.tracker.Records())
}

// deploymentOf maps each Deployment's ReplicaSet (namespace/name) to the
// Deployment's name, so that pods count under the workload users know.
func (r *run) deploymentOf() map[string]string {
	out := map[string]string{}
	for _, insts := range r.created {
		for _, inst := range insts {
			if rs := inst.ReplicaSet; rs != nil {
				// The ReplicaSet's controller reference names its Deployment.
				if ref := metav1.GetControllerOf(rs); ref != nil {
					out[rs.Namespace+"/"+rs.Name] = ref.Name
				}
			}
		}
	}
	return out
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
