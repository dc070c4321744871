package runner

import (
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/placer-dev/placer/pkg/bench/quality"
	"github.com/placer-dev/placer/pkg/bench/result"
)

// podRecords are the tracker's records with what names each pod's workload
// and zone.
type podRecords struct {
	records []podRecord
	zones   map[string]string
	// deploymentOf names the Deployment of each ReplicaSet (namespace/name).
	deploymentOf map[string]string
}

// records are the run's pods now.
func (r *run) records() podRecords {
	return podRecords{records: r.tracker.snapshot(), zones: r.zones, deploymentOf: r.deploymentOf()}
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

// ownerOf is a pod's workload: its controller, or for a ReplicaSet of a
// Deployment of the run, the Deployment.
func (v podRecords) ownerOf(pod *v1.Pod) (kind, name string) {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return "", ""
	}
	if ref.Kind == "ReplicaSet" {
		if d, ok := v.deploymentOf[pod.Namespace+"/"+ref.Name]; ok {
			return "Deployment", d
		}
	}
	return ref.Kind, ref.Name
}

// placements lists every pod the run created, bound or not, deleted or not,
// sorted by namespace and name.
func (v podRecords) placements() []result.Placement {
	out := make([]result.Placement, 0, len(v.records))
	for _, rec := range v.records {
		if rec.pod == nil {
			continue
		}
		p := result.Placement{Namespace: rec.pod.Namespace, Name: rec.pod.Name, Node: rec.node, Zone: v.zones[rec.node], Deleted: rec.deleted}
		if rec.node == "" {
			p.Unschedulable, p.Reason = rec.unschedulable, rec.reason
		}
		p.OwnerKind, p.OwnerName = v.ownerOf(rec.pod)
		if s, ok := rec.pod.Labels[appsv1.PodIndexLabel]; ok {
			if i, err := strconv.Atoi(s); err == nil {
				p.Ordinal = &i
			}
		}
		if len(rec.pod.Spec.Containers) > 0 {
			p.Requests = resourcehelper.PodRequests(rec.pod, resourcehelper.PodResourcesOptions{})
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// tally counts the outcomes into res and returns the bind times and
// creation-to-bind latencies (seconds) of the measured pods that were bound.
func (v podRecords) tally(res *result.Result) (binds []time.Time, lat []float64) {
	res.Pods, res.Scheduled, res.Unschedulable, res.Preempted = 0, 0, 0, 0
	for _, rec := range v.records {
		res.Pods++
		switch {
		case !rec.bound.IsZero():
			res.Scheduled++
		case rec.unschedulable:
			res.Unschedulable++
		}
		if rec.preempted {
			res.Preempted++
		}
		if rec.measured && !rec.bound.IsZero() {
			binds = append(binds, rec.bound)
			lat = append(lat, rec.bound.Sub(rec.created).Seconds())
		}
	}
	return binds, lat
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
