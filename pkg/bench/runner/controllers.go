package runner

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/workload"
)

// byController is the run's state where the cluster's own controllers make
// the pods of its Deployments, StatefulSets and Jobs (a real cluster with
// kube-controller-manager): the run creates the controller objects, then
// learns of each pod from the watch, and a barrier also waits until the
// controllers have made as many pods as were asked for.
type byController struct {
	// measuring: pods that appear now are measured (the op that asked for
	// them says so).
	measuring atomic.Bool
	mu        sync.Mutex
	// expected counts the pods the controllers were asked to make so far;
	// replicas, each instance's current replicas.
	expected int
	replicas map[*generate.Instance]int
}

// unsupportedWithControllers are the ops that replace pods as a controller
// would, which the run cannot do where the cluster's controllers act.
var unsupportedWithControllers = map[string]bool{workload.OpChurn: true, workload.OpRollingUpdate: true, workload.OpZoneOutage: true,
	workload.OpNodeFailure: true, workload.OpZoneRecovery: true}

// checkControllerOps refuses, before anything runs, the ops the run cannot
// make on a cluster whose controllers make the pods.
func checkControllerOps(f *workload.File) error {
	for i, op := range f.Ops {
		if unsupportedWithControllers[op.Op] {
			return fmt.Errorf("ops[%d] (%s): on a cluster whose own controllers make the pods (--controllers cluster), the harness "+
				"cannot remove and replace pods as a controller would; run it on the memory or embedded backend, or with "+
				"--controllers harness on a cluster without kube-controller-manager", i, op.Op)
		}
	}
	return nil
}

// asked records that an instance should have replicas pods; the pods a
// scale-up adds are expected too.
func (c *byController) asked(inst *generate.Instance, replicas int, measured bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.replicas == nil {
		c.replicas = map[*generate.Instance]int{}
	}
	if more := replicas - c.replicas[inst]; more > 0 {
		c.expected += more
	}
	c.replicas[inst] = replicas
	c.measuring.Store(measured)
}

// made reports whether the controllers have made the pods asked for.
func (c *byController) made(created int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return created >= c.expected
}

// seen counts a pod a controller made when the watch first sees it: its
// creation is that moment. (The run's own pods, bare ones, it records as it
// creates them.)
func (r *run) seen(pod *v1.Pod) {
	if r.controllers == nil || metav1.GetControllerOf(pod) == nil {
		return
	}
	if rec, _ := r.tracker.Record(pod.UID); rec.Created.IsZero() {
		r.tracker.Created(pod.UID, time.Now(), r.controllers.measuring.Load())
	}
}
