package pluginbench

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/podtopologyspread"
	plugintesting "k8s.io/kubernetes/pkg/scheduler/framework/plugins/testing"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"
	schedmetrics "k8s.io/kubernetes/pkg/scheduler/metrics"
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
