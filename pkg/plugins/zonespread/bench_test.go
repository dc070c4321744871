package zonespread

import (
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/placer-dev/placer/pkg/plugins/internal/pluginbench"
	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
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
	nodes, pods := benchCluster()
	snapshot, infos := pluginbench.Snapshot(b, nodes, pods)

	zs := plugintest.Build(b, nil, DefaultArgs, newWithArgs)
	zs.nodeInfos = snapshot.NodeInfos()
	pluginbench.Feed(zs.index, zs.podEvents(), nodes, pods)
	pod := owned("incoming", "ReplicaSet", "web")
	pod.Labels = map[string]string{"app": "web"}

	pluginbench.Compare(b, infos,
		pluginbench.PodTopologySpread(b, snapshot, pod, zoneKey, v1.ScheduleAnyway),
		pluginbench.Rival{Name: "ZoneSpread", Plugin: zs, Pod: pod})
}
