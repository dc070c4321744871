// Package statefulsetaware implements the StatefulSetAware scheduler plugin:
// StatefulSet replicas placed so that losing any one zone or node never
// costs a quorum, each ordinal in a stable zone (or its volume's), and the
// primary apart from its replicas. README.md has the rules.
package statefulsetaware

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/component-base/metrics"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/apis/config/scheme"
	"github.com/placer-dev/placer/pkg/apis/config/validation"
	"github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"
	"github.com/placer-dev/placer/pkg/plugins/internal/topology"
)

// Name is the plugin's name in a KubeSchedulerConfiguration.
const Name = "StatefulSetAware"

// StatefulSetAware places StatefulSet replicas quorum-safely.
type StatefulSetAware struct {
	key       string
	policy    config.QuorumPolicy
	primary   labels.Selector // nil: the first ordinal is the primary
	members   *topology.Tracker[set, member]
	index     *topology.NodeIndex // one key: zones
	nodeInfos framework.NodeInfoLister
	sets      appslisters.StatefulSetLister
	pvcs      corelisters.PersistentVolumeClaimLister
	pvs       corelisters.PersistentVolumeLister
	recorder  events.EventRecorder
	// Filter's rejection counters by reason, looked up once: Filter runs
	// per node, and a label lookup per rejected node costs more than the check.
	rejected map[string]metrics.CounterMetric
}

var (
	_ pluginkit.Extensions     = &StatefulSetAware{}
	_ framework.PostBindPlugin = &StatefulSetAware{}
)

// New builds the plugin on the scheduler's informers: pods and nodes (for
// the incremental counts), StatefulSets (replicas), claims and volumes.
func New(_ context.Context, obj runtime.Object, h framework.Handle) (framework.Plugin, error) {
	pl, _, err := pluginkit.Build(obj, scheme.StatefulSetAwareArgs, registerMetrics, newWithArgs)
	if err != nil {
		return nil, err
	}
	if pl.nodeInfos, err = topology.Watch(Name, h, pl.podEvents(), pl.index); err != nil {
		return nil, err
	}
	inf := h.SharedInformerFactory()
	pl.sets = inf.Apps().V1().StatefulSets().Lister()
	pl.pvcs = inf.Core().V1().PersistentVolumeClaims().Lister()
	pl.pvs = inf.Core().V1().PersistentVolumes().Lister()
	pl.recorder = h.EventRecorder()
	return pl, nil
}

func newWithArgs(args *config.StatefulSetAwareArgs) (*StatefulSetAware, error) {
	if err := pluginkit.Validate(Name, args, validation.ValidateStatefulSetAwareArgs); err != nil {
		return nil, err
	}
	pl := &StatefulSetAware{
		key:      args.TopologyKey,
		policy:   args.WhenQuorumAtRisk,
		members:  topology.NewTracker[set, member](),
		index:    topology.NewNodeIndex([]string{args.TopologyKey}),
		rejected: rejectionCounters(),
	}
	if args.PrimarySelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(args.PrimarySelector)
		if err != nil {
			return nil, fmt.Errorf("invalid arguments of plugin %s: primarySelector: %w", Name, err)
		}
		pl.primary = sel
	}
	return pl, nil
}

// DefaultArgs returns the plugin's arguments with every default applied.
func DefaultArgs() (*config.StatefulSetAwareArgs, error) {
	return scheme.StatefulSetAwareArgs(nil)
}

// Name returns the plugin's name.
func (pl *StatefulSetAware) Name() string { return Name }

// labelled says whether a pod matches primarySelector (false without one).
func (pl *StatefulSetAware) labelled(pod *v1.Pod) bool {
	return pl.primary != nil && pl.primary.Matches(labels.Set(pod.Labels))
}

// isPrimary says whether a replica is its set's primary: the one matching
// primarySelector, or without a selector the first ordinal, start.
func (pl *StatefulSetAware) isPrimary(ordinal, start int, labelled bool) bool {
	if pl.primary == nil {
		return ordinal == start
	}
	return labelled
}

func (pl *StatefulSetAware) memberOf(pod *v1.Pod, node string, ordinal int) member {
	return member{node: node, ordinal: ordinal, labelled: pl.labelled(pod)}
}

// podEvents keeps the tracker in step with the scheduler's pod informer.
func (pl *StatefulSetAware) podEvents() cache.ResourceEventHandler {
	return topology.PodHandler(pl.podChanged, func(pod *v1.Pod) { pl.members.Remove(pod.UID) })
}

// podChanged records a bound replica, or forgets the pod when it no longer
// holds a place in a set: finished, or no longer owned by a StatefulSet
// (its controller reference removed, as when a pod is quarantined by
// relabelling it, or given to another owner). A pod moved to another set is
// moved by Place. A terminating replica still counts: it runs until it is
// gone, and its successor has its ordinal, which never counts against itself.
func (pl *StatefulSetAware) podChanged(pod *v1.Pod) {
	s, ordinal, ok := identity(pod)
	if !ok {
		pl.members.Remove(pod.UID)
		return
	}
	if topology.Placed(pod) {
		pl.members.Place(s, pod.UID, pl.memberOf(pod, pod.Spec.NodeName, ordinal))
	} else if pod.Spec.NodeName != "" {
		pl.members.Remove(pod.UID)
	}
}
