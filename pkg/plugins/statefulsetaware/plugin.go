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
	"k8s.io/apimachinery/pkg/util/validation/field"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/apis/config/scheme"
	configv1 "github.com/placer-dev/placer/pkg/apis/config/v1"
	"github.com/placer-dev/placer/pkg/apis/config/validation"
	"github.com/placer-dev/placer/pkg/plugins/internal/topology"
)

// Name is the plugin's name in a KubeSchedulerConfiguration.
const Name = "StatefulSetAware"

// StatefulSetAware places StatefulSet replicas quorum-safely.
type StatefulSetAware struct {
	key       string
	policy    config.QuorumPolicy
	primary   labels.Selector // nil: ordinal 0 is the primary
	members   *topology.Tracker[set, member]
	index     *topology.NodeIndex // one key: zones
	nodeInfos framework.NodeInfoLister
	sets      appslisters.StatefulSetLister
	pvcs      corelisters.PersistentVolumeClaimLister
	pvs       corelisters.PersistentVolumeLister
	recorder  events.EventRecorder
}

var (
	_ framework.PreFilterPlugin   = &StatefulSetAware{}
	_ framework.FilterPlugin      = &StatefulSetAware{}
	_ framework.PreScorePlugin    = &StatefulSetAware{}
	_ framework.ScorePlugin       = &StatefulSetAware{}
	_ framework.ReservePlugin     = &StatefulSetAware{}
	_ framework.PostBindPlugin    = &StatefulSetAware{}
	_ framework.EnqueueExtensions = &StatefulSetAware{}
)

// New builds the plugin on the scheduler's informers: pods and nodes (for
// the incremental counts), StatefulSets (replicas), claims and volumes.
func New(_ context.Context, obj runtime.Object, h framework.Handle) (framework.Plugin, error) {
	args, err := argsFrom(obj)
	if err != nil {
		return nil, err
	}
	pl, err := newWithArgs(args)
	if err != nil {
		return nil, err
	}
	registerMetrics()
	inf := h.SharedInformerFactory()
	pl.nodeInfos = h.SnapshotSharedLister().NodeInfos()
	pl.sets = inf.Apps().V1().StatefulSets().Lister()
	pl.pvcs = inf.Core().V1().PersistentVolumeClaims().Lister()
	pl.pvs = inf.Core().V1().PersistentVolumes().Lister()
	pl.recorder = h.EventRecorder()
	if err := topology.Watch(h, pl.podEvents(), pl.index); err != nil {
		return nil, fmt.Errorf("%s: watching pods and nodes: %w", Name, err)
	}
	return pl, nil
}

func newWithArgs(args *config.StatefulSetAwareArgs) (*StatefulSetAware, error) {
	if err := validation.ValidateStatefulSetAwareArgs(field.NewPath(Name+"Args"), args); err != nil {
		return nil, fmt.Errorf("invalid arguments of plugin %s: %w", Name, err)
	}
	pl := &StatefulSetAware{
		key:     args.TopologyKey,
		policy:  args.WhenQuorumAtRisk,
		members: topology.NewTracker[set, member](),
		index:   topology.NewNodeIndex([]string{args.TopologyKey}),
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

func argsFrom(obj runtime.Object) (*config.StatefulSetAwareArgs, error) {
	return scheme.PluginArgs(Name, obj, &configv1.StatefulSetAwareArgs{}, &config.StatefulSetAwareArgs{})
}

// DefaultArgs returns the plugin's arguments with every default applied.
func DefaultArgs() (*config.StatefulSetAwareArgs, error) {
	return argsFrom(nil)
}

// Name returns the plugin's name.
func (pl *StatefulSetAware) Name() string { return Name }

// isPrimary says whether a pod is its set's primary.
func (pl *StatefulSetAware) isPrimary(pod *v1.Pod, ordinal int) bool {
	if pl.primary == nil {
		return ordinal == 0
	}
	return pl.primary.Matches(labels.Set(pod.Labels))
}

// podEvents keeps the tracker in step with the scheduler's pod informer.
func (pl *StatefulSetAware) podEvents() cache.ResourceEventHandler {
	return topology.PodHandler(pl.podChanged, func(pod *v1.Pod) { pl.members.Remove(pod.UID) })
}

func (pl *StatefulSetAware) podChanged(pod *v1.Pod) {
	s, ordinal, ok := identity(pod)
	if !ok {
		return
	}
	if topology.Placed(pod) {
		pl.members.Place(s, pod.UID, member{node: pod.Spec.NodeName, ordinal: ordinal, primary: pl.isPrimary(pod, ordinal)})
	} else if pod.Spec.NodeName != "" {
		pl.members.Remove(pod.UID)
	}
}
