package statefulsetaware

import (
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/placer-dev/placer/pkg/plugins/internal/pluginbench"
	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
)

// BenchmarkFilterScore measures a scheduling cycle's Filter and Score over
// 1000 nodes in 3 zones, with 10 000 running pods of 2000 StatefulSets of 5,
// for the last replica of one set: StatefulSetAware with the shipped
// arguments, beside PodTopologySpread given what a user writes for the same
// guarantee without it (zone and hostname, maxSkew 1, DoNotSchedule). Run
// with make bench-plugins.
func BenchmarkFilterScore(b *testing.B) {
	var nodes []*v1.Node
	for i := range 1000 {
		nodes = append(nodes, zoneNode(fmt.Sprintf("n%d", i), fmt.Sprintf("z%d", i%3)))
	}
	sets := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	labelled := func(set string, ordinal int) *v1.Pod {
		p := replica(set, ordinal)
		p.Labels["app"] = set // PodTopologySpread's selector
		return p
	}
	var pods []*v1.Pod
	for s := range 2000 {
		set := fmt.Sprintf("s%d", s)
		_ = sets.Add(statefulSet(set, 5, 0))
		for o := range 5 {
			if s == 0 && o == 4 {
				continue // the pod being scheduled
			}
			p := labelled(set, o)
			p.Spec.NodeName = nodes[(s*5+o)*7%len(nodes)].Name
			pods = append(pods, p)
		}
	}
	snapshot, infos := pluginbench.Snapshot(b, nodes, pods)

	ssa := plugintest.Build(b, nil, DefaultArgs, newWithArgs)
	ssa.nodeInfos = snapshot.NodeInfos()
	ssa.sets = appslisters.NewStatefulSetLister(sets)
	pluginbench.Feed(ssa.index, ssa.podEvents(), nodes, pods)
	pod := labelled("s0", 4)
	pluginbench.Compare(b, infos,
		pluginbench.PodTopologySpread(b, snapshot, pod, zoneKey, v1.DoNotSchedule),
		pluginbench.Rival{Name: "StatefulSetAware", Plugin: ssa, Pod: pod})
}
