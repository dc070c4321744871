// Package zonespread implements the ZoneSpread scheduler plugin: replicas of
// one workload (Deployment, StatefulSet, Job, ReplicationController) spread
// over zones and nodes without topologySpreadConstraints, with a hard skew
// bound per topology key, at a cost per pod that does not grow with the
// number of pods in the cluster. README.md has the rules.
package zonespread

import (
	"context"
	"math"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/component-base/metrics"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/apis/config/scheme"
	"github.com/placer-dev/placer/pkg/apis/config/validation"
	"github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"
	"github.com/placer-dev/placer/pkg/plugins/internal/topology"
)

// Name is the plugin's name in a KubeSchedulerConfiguration.
const Name = "ZoneSpread"

// constraint is one configured topology key.
type constraint struct {
	key     string
	maxSkew int // 0: scored only
}

// ZoneSpread spreads each workload's replicas over topology domains.
type ZoneSpread struct {
	constraints                     []constraint
	ignorePodsWithSpreadConstraints bool
	resolver                        *resolver
	// pods maps each workload's placed pods (by UID) to their node.
	pods *topology.Tracker[workload, replica]
	// owned holds the pods whose workload is a Deployment again, by their
	// own ReplicaSet: the skew bound applies to the ReplicaSet (see bound).
	owned     *topology.Tracker[workload, replica]
	index     *topology.NodeIndex
	nodeInfos framework.NodeInfoLister
	// Filter's rejection counters, looked up once: Filter runs per node,
	// and a label lookup per rejected node costs more than the check.
	rejectedMaxSkew, rejectedMissingLabel metrics.CounterMetric
}

var _ pluginkit.Extensions = &ZoneSpread{}

// New builds the plugin and subscribes it to the scheduler's pod and node
// informers, from which it keeps its counts.
func New(ctx context.Context, obj runtime.Object, h framework.Handle) (framework.Plugin, error) {
	pl, args, err := pluginkit.Build(obj, scheme.ZoneSpreadArgs, registerMetrics, newWithArgs)
	if err != nil {
		return nil, err
	}
	if pl.nodeInfos, err = topology.Watch(Name, h, pl.podEvents(), pl.index); err != nil {
		return nil, err
	}
	if args.GroupReplicaSetsByDeployment {
		pl.resolver.replicaSets = h.SharedInformerFactory().Apps().V1().ReplicaSets().Lister()
	}
	klog.FromContext(ctx).V(2).Info("ZoneSpread ready", "constraints", pl.constraints)
	return pl, nil
}

// newWithArgs validates the arguments and builds the plugin without any
// informer; New wires those in.
func newWithArgs(args *config.ZoneSpreadArgs) (*ZoneSpread, error) {
	if err := pluginkit.Validate(Name, args, validation.ValidateZoneSpreadArgs); err != nil {
		return nil, err
	}
	pl := &ZoneSpread{
		ignorePodsWithSpreadConstraints: args.IgnorePodsWithSpreadConstraints,
		resolver:                        &resolver{groupByDeployment: args.GroupReplicaSetsByDeployment},
		pods:                            topology.NewTracker[workload, replica](),
		owned:                           topology.NewTracker[workload, replica](),
		rejectedMaxSkew:                 filterRejections.WithLabelValues(reasonMaxSkew),
		rejectedMissingLabel:            filterRejections.WithLabelValues(reasonMissingLabel),
	}
	keys := make([]string, len(args.Constraints))
	for i, c := range args.Constraints {
		keys[i] = c.TopologyKey
		cc := constraint{key: c.TopologyKey}
		if c.MaxSkew != nil {
			cc.maxSkew = int(*c.MaxSkew)
		}
		pl.constraints = append(pl.constraints, cc)
	}
	pl.index = topology.NewNodeIndex(keys)
	return pl, nil
}

// DefaultArgs returns the plugin's arguments with every default applied.
func DefaultArgs() (*config.ZoneSpreadArgs, error) {
	return scheme.ZoneSpreadArgs(nil)
}

// Name returns the plugin's name.
func (pl *ZoneSpread) Name() string { return Name }

// applies returns the pod's workload when ZoneSpread is in charge of the pod:
// it has a spreadable controller, has not opted out, and (unless configured
// otherwise) carries no topologySpreadConstraints of its own.
func (pl *ZoneSpread) applies(pod *v1.Pod) (workload, bool) {
	w, d := pl.classify(pod)
	return w, d == ""
}

// classify is applies with the reason a pod is left alone, for the metrics:
// an empty decision means ZoneSpread is in charge.
func (pl *ZoneSpread) classify(pod *v1.Pod) (workload, decision) {
	if pod.Annotations[OptOutAnnotation] == "true" {
		return workload{}, decisionOptOut
	}
	if pl.ignorePodsWithSpreadConstraints && len(pod.Spec.TopologySpreadConstraints) > 0 {
		return workload{}, decisionOwnConstraints
	}
	w, ok := pl.resolver.workloadOf(pod)
	if !ok {
		return workload{}, decisionNotReplicated
	}
	return w, ""
}

// podEvents keeps the trackers in step with the scheduler's pod informer.
func (pl *ZoneSpread) podEvents() cache.ResourceEventHandler {
	return topology.PodHandler(pl.podChanged, func(pod *v1.Pod) { pl.forget(pod.UID) })
}

func (pl *ZoneSpread) podChanged(pod *v1.Pod) {
	switch {
	case topology.Placed(pod) && counted(pod):
		// A pod adopted by another workload moves with Place; one that is
		// no longer a replica at all (its controller reference removed, as
		// when a pod quarantined by relabelling is released by its
		// ReplicaSet, or now of a kind ZoneSpread does not spread) is
		// forgotten.
		if !pl.place(pod, pod.Spec.NodeName) {
			pl.forget(pod.UID)
		}
	case pod.Spec.NodeName != "":
		pl.forget(pod.UID) // finished or terminating: it no longer holds a place
	default:
		// Not bound: only what Reserve assumed can be known of it, and that
		// stays unless it has left its workload.
		if _, ok := pl.resolver.workloadOf(pod); !ok {
			pl.forget(pod.UID)
		}
	}
}

// place records a replica on node under its workload and, when that is its
// Deployment, under its own ReplicaSet too; false for a pod that is not a
// replica.
func (pl *ZoneSpread) place(pod *v1.Pod, node string) bool {
	w, ok := pl.resolver.workloadOf(pod)
	if !ok {
		return false
	}
	r := replica{node: node, priority: corev1helpers.PodPriority(pod)}
	pl.pods.Place(w, pod.UID, r)
	if own, _ := ownerOf(pod); own != w {
		pl.owned.Place(own, pod.UID, r)
	} else {
		pl.owned.Remove(pod.UID)
	}
	return true
}

func (pl *ZoneSpread) forget(uid types.UID) {
	pl.pods.Remove(uid)
	pl.owned.Remove(uid)
}

// bound is the workload whose skew Filter bounds: the pod's own controller.
// For a Deployment that is its ReplicaSet, while Score spreads all the
// Deployment's ReplicaSets as one: in a rolling update the ReplicaSet
// controller deletes old pods without regard to zones, so a bound on old
// and new together could leave the new ReplicaSet, all that remains at the
// end, skewed by two or more; bounding the new ReplicaSet itself cannot.
func (pl *ZoneSpread) bound(pod *v1.Pod, w workload) workload {
	if own, ok := ownerOf(pod); ok {
		return own
	}
	return w
}

// counted says whether a placed replica counts toward its workload's spread.
// A terminating pod does not, as in PodTopologySpread: during a rolling
// update or a scale-down its place is being given up, and counting it would
// push its successor away from the zone it is leaving.
func counted(pod *v1.Pod) bool { return pod.DeletionTimestamp == nil }

// replica is what ZoneSpread keeps of a placed pod: its node, and its
// priority, which says whether preemption could remove it for another
// replica (see narrow).
type replica struct {
	node     string
	priority int32
}

// placed is a workload's replicas as PreFilter and PreScore need them: how
// many each node holds, and the lowest priority among them.
type placed struct {
	perNode     map[string]int
	minPriority int32
}

// perNode returns how many placed pods of w each node holds.
func (pl *ZoneSpread) perNode(w workload) map[string]int {
	return tally(pl.pods.Values(w)).perNode
}

// boundPlaced returns the placed pods of the bound workload b (a ReplicaSet
// when w is its Deployment).
func (pl *ZoneSpread) boundPlaced(b, w workload) placed {
	if b == w {
		return tally(pl.pods.Values(w))
	}
	return tally(pl.owned.Values(b))
}

func tally(replicas []replica) placed {
	out := placed{perNode: map[string]int{}, minPriority: math.MaxInt32}
	for _, r := range replicas {
		out.perNode[r.node]++
		out.minPriority = min(out.minPriority, r.priority)
	}
	return out
}
