package pluginbench

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	schedcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/podtopologyspread"
	plugintesting "k8s.io/kubernetes/pkg/scheduler/framework/plugins/testing"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"

	"github.com/placer-dev/placer/pkg/plugins/internal/topology"
)

// Rival is a plugin measured against another, with the pod it schedules.
type Rival struct {
	Name   string
	Plugin FilterScorer
	Pod    *v1.Pod
}

// PodTopologySpread is the upstream plugin Placer's spreading plugins
// replace, set up on snapshot as a user would configure it for the same
// guarantee: pod given its own topologySpreadConstraints, maxSkew 1 over
// its app label, DoNotSchedule by zoneKey and whenHost by hostname.
func PodTopologySpread(b *testing.B, snapshot framework.SharedLister, pod *v1.Pod, zoneKey string, whenHost v1.UnsatisfiableConstraintAction) Rival {
	schedmetrics.Register() // PodTopologySpread's parallelizer reports to them
	pts := plugintesting.SetupPlugin(context.Background(), b, frameworkruntime.FactoryAdapter(feature.Features{}, podtopologyspread.New),
		&config.PodTopologySpreadArgs{DefaultingType: config.ListDefaulting}, snapshot).(FilterScorer)
	ptsPod := pod.DeepCopy()
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": pod.Labels["app"]}}
	ptsPod.Spec.TopologySpreadConstraints = []v1.TopologySpreadConstraint{
		{MaxSkew: 1, TopologyKey: zoneKey, WhenUnsatisfiable: v1.DoNotSchedule, LabelSelector: sel},
		{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: whenHost, LabelSelector: sel},
	}
	return Rival{Name: "PodTopologySpread", Plugin: pts, Pod: ptsPod}
}

// Compare runs each rival's cycle as a sub-benchmark over the same nodes.
func Compare(b *testing.B, nodes []fwk.NodeInfo, rivals ...Rival) {
	for _, r := range rivals {
		b.Run(r.Name, func(b *testing.B) { RunCycle(b, r.Plugin, r.Pod, nodes) })
	}
}

// Snapshot is the scheduler's snapshot of nodes with pods placed on them,
// and its node infos, the nodes a cycle runs over.
func Snapshot(b *testing.B, nodes []*v1.Node, pods []*v1.Pod) (*schedcache.Snapshot, []fwk.NodeInfo) {
	snapshot := schedcache.NewSnapshot(pods, nodes)
	infos, err := snapshot.NodeInfos().List()
	if err != nil {
		b.Fatal(err)
	}
	return snapshot, infos
}

// Feed gives a plugin's node index and pod handler the cluster, as the
// scheduler's informers would when it starts.
func Feed(index *topology.NodeIndex, podEvents cache.ResourceEventHandler, nodes []*v1.Node, pods []*v1.Pod) {
	for _, n := range nodes {
		index.Set(n)
	}
	for _, p := range pods {
		podEvents.OnAdd(p, false)
	}
}
