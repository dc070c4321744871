package statefulsetaware

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
	schedcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/utils/ptr"

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
		name := fmt.Sprintf("n%d", i)
		alloc := plugintest.Resources("cpu", "16", "pods", "110")
		nodes = append(nodes, &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{zoneKey: fmt.Sprintf("z%d", i%3), "kubernetes.io/hostname": name}},
			Status: v1.NodeStatus{Allocatable: alloc}})
	}
	sets := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	replica := func(set string, ordinal int) *v1.Pod {
		return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", set, ordinal), Namespace: "ns",
			UID:             types.UID(fmt.Sprintf("%s-%d", set, ordinal)),
			Labels:          map[string]string{"app": set, appsv1.PodIndexLabel: fmt.Sprint(ordinal)},
			OwnerReferences: []metav1.OwnerReference{{Kind: "StatefulSet", Name: set, Controller: ptr.To(true)}}}}
	}
	var pods []*v1.Pod
	for s := range 2000 {
		set := fmt.Sprintf("s%d", s)
		_ = sets.Add(&appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: set, Namespace: "ns"},
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(int32(5))}})
		for o := range 5 {
			if s == 0 && o == 4 {
				continue // the pod being scheduled
			}
			p := replica(set, o)
			p.Spec.NodeName = nodes[(s*5+o)*7%len(nodes)].Name
			pods = append(pods, p)
		}
	}
	snapshot := schedcache.NewSnapshot(pods, nodes)
	infos, err := snapshot.NodeInfos().List()
	if err != nil {
		b.Fatal(err)
	}

	ssa := plugintest.Build(b, nil, DefaultArgs, newWithArgs)
	ssa.nodeInfos = snapshot.NodeInfos()
	ssa.sets = appslisters.NewStatefulSetLister(sets)
	for _, n := range nodes {
		ssa.index.Set(n)
	}
	for _, p := range pods {
		ssa.podEvents().OnAdd(p, false)
	}
	pod := replica("s0", 4)
	pluginbench.Compare(b, infos,
		pluginbench.PodTopologySpread(b, snapshot, pod, zoneKey, v1.DoNotSchedule),
		pluginbench.Rival{Name: "StatefulSetAware", Plugin: ssa, Pod: pod})
}
