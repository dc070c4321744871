package zonespread

import (
	"context"
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/podtopologyspread"
	plugintesting "k8s.io/kubernetes/pkg/scheduler/framework/plugins/testing"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"

	"github.com/placer-dev/placer/pkg/plugins/internal/pluginbench"
)

// benchCluster is 1000 nodes over 3 zones and 10 000 running pods of 100
// ReplicaSets, web among them with 100 replicas.
func benchCluster() ([]*v1.Node, []*v1.Pod) {
	var nodes []*v1.Node
	for i := range 1000 {
		nodes = append(nodes, mkNode(fmt.Sprintf("n%d", i), fmt.Sprintf("zone-%d", i%3)))
	}
	var pods []*v1.Pod
	for i := range 10000 {
		rs := fmt.Sprintf("rs%d", i%100)
		if i%100 == 0 {
			rs = "web"
		}
		p := owned(fmt.Sprintf("p%d", i), "ReplicaSet", rs)
		p.UID = types.UID(p.Name)
		p.Labels = map[string]string{"app": rs}
		p.Spec.NodeName = nodes[(i*7)%len(nodes)].Name
		pods = append(pods, p)
	}
	return nodes, pods
}

// BenchmarkFilterScore measures a scheduling cycle's Filter and Score over
// every node (with PreFilter and PreScore once) for a replica of web:
// ZoneSpread with the shipped arguments, beside PodTopologySpread given the
// same rules as the pod's own constraints (zone maxSkew 1 DoNotSchedule,
// hostname ScheduleAnyway), the plugin it replaces. Run with make bench-plugins.
func BenchmarkFilterScore(b *testing.B) {
	schedmetrics.Register() // PodTopologySpread's parallelizer reports to them
	nodes, pods := benchCluster()
	snapshot := cache.NewSnapshot(pods, nodes)
	infos, err := snapshot.NodeInfos().List()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()

	args, err := DefaultArgs()
	if err != nil {
		b.Fatal(err)
	}
	zs, err := newWithArgs(args)
	if err != nil {
		b.Fatal(err)
	}
	zs.nodeInfos = snapshot.NodeInfos()
	for _, n := range nodes {
		zs.index.Set(n)
	}
	for _, p := range pods {
		zs.podEvents().OnAdd(p, false)
	}
	pod := owned("incoming", "ReplicaSet", "web")
	pod.Labels = map[string]string{"app": "web"}

	pts := plugintesting.SetupPlugin(ctx, b, frameworkruntime.FactoryAdapter(feature.Features{}, podtopologyspread.New),
		&config.PodTopologySpreadArgs{DefaultingType: config.ListDefaulting}, snapshot).(pluginbench.FilterScorer)
	ptsPod := pod.DeepCopy()
	sel := &metav1.LabelSelector{MatchLabels: pod.Labels}
	ptsPod.Spec.TopologySpreadConstraints = []v1.TopologySpreadConstraint{
		{MaxSkew: 1, TopologyKey: zoneKey, WhenUnsatisfiable: v1.DoNotSchedule, LabelSelector: sel},
		{MaxSkew: 1, TopologyKey: hostKey, WhenUnsatisfiable: v1.ScheduleAnyway, LabelSelector: sel},
	}
	for _, tc := range []struct {
		name string
		pl   pluginbench.FilterScorer
		pod  *v1.Pod
	}{
		{"PodTopologySpread", pts, ptsPod},
		{"ZoneSpread", zs, pod},
	} {
		b.Run(tc.name, func(b *testing.B) { pluginbench.RunCycle(b, tc.pl, tc.pod, infos) })
	}
}
