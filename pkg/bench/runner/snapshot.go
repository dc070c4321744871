package runner

import (
	"context"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	quotav1 "k8s.io/apiserver/pkg/quota/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/snapshot"
)

// occupancy is what pods that are not the run's take on a node.
type occupancy struct {
	requests v1.ResourceList
	pods     int64
}

// loadSnapshot starts the run from the workload's cluster snapshot: its
// nodes and bound pods as they are, then, once the scheduler has seen the
// nodes, its pending pods for this profile, as pods of the run.
func (r *run) loadSnapshot(ctx context.Context) error {
	path := r.file.Cluster.Snapshot
	if r.backend.Shared() {
		return fmt.Errorf("cluster.snapshot %s: a snapshot is loaded into a cluster of the run's own; use --backend memory or embedded, not %s",
			path, r.backend.Name())
	}
	s, err := snapshot.Load(path)
	if err != nil {
		return fmt.Errorf("cluster.snapshot: %w", err)
	}
	loaded, err := r.workloads.LoadSnapshot(ctx, s, r.profile.SchedulerName)
	if err != nil {
		return fmt.Errorf("cluster.snapshot %s: %w", path, err)
	}
	for _, n := range loaded.Nodes {
		r.nodes[n.Name] = n
		r.zones[n.Name] = n.Labels[generate.ZoneLabel]
	}
	for _, p := range loaded.Bound {
		r.occupy(p)
	}
	if err := r.waitSchedulerSeesNodes(ctx, loaded.Nodes); err != nil {
		return err
	}
	if r.measureAll && len(loaded.Pending) > 0 && r.firstMeasured.IsZero() {
		r.firstMeasured = time.Now()
	}
	return r.parallel(ctx, len(loaded.Pending), nil, func(i int) error {
		_, err := r.workloads.CreatePod(ctx, loaded.Pending[i], nil, r.measureAll)
		return err
	})
}

// occupy counts a pod that is not the run's on its node.
func (r *run) occupy(p *v1.Pod) {
	o := r.occupied[p.Spec.NodeName]
	o.pods++
	o.requests = quotav1.Add(o.requests, resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{}))
	r.occupied[p.Spec.NodeName] = o
}
