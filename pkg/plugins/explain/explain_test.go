package explain

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	fwk "k8s.io/kube-scheduler/framework"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/apis/config/validation"
	"github.com/placer-dev/placer/pkg/explanation"
)

func TestSampledIsStableAndNearThePercent(t *testing.T) {
	for _, percent := range []float64{0, 0.5, 10, 100} {
		n := 0
		const pods = 20000
		for i := range pods {
			name := fmt.Sprintf("pod-%d", i)
			s := Sampled("bench", name, percent)
			if s != Sampled("bench", name, percent) {
				t.Fatalf("%s sampled differently twice", name)
			}
			if s {
				n++
			}
		}
		got := 100 * float64(n) / pods
		// A binomial share of 20,000 draws: within 5 standard deviations.
		if sd := 100 * 5 * math.Sqrt(percent/100*(1-percent/100)/pods); got < percent-sd || got > percent+sd {
			t.Errorf("%v%%: sampled %.2f%% of %d pods", percent, got, pods)
		}
	}
}

func TestWantsHonoursTheAnnotationFirst(t *testing.T) {
	pl := &Explain{percent: 100}
	podWith := func(v string) *v1.Pod {
		p := newPod("p")
		if v != "" {
			p.Annotations = map[string]string{explanation.RequestAnnotation: v}
		}
		return p
	}
	if !pl.wants(podWith("")) || pl.wants(podWith("false")) {
		t.Errorf("sampling all: a pod is explained unless it declines")
	}
	pl.percent = 0
	if pl.wants(podWith("")) || !pl.wants(podWith("true")) {
		t.Errorf("sampling none: only a pod that asks is explained")
	}
}

func TestRejectionsCountPerPluginWithTheFirstNodeByName(t *testing.T) {
	verdicts := []struct {
		node string
		s    *fwk.Status
	}{
		{"node-c", fwk.NewStatus(fwk.Unschedulable, "Insufficient cpu").WithPlugin("NodeResourcesFit")},
		{"node-a", nil},
		{"node-b", fwk.NewStatus(fwk.Unschedulable, "Insufficient cpu", "Insufficient memory").WithPlugin("NodeResourcesFit")},
		{"node-d", fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "node(s) had untolerated taint").WithPlugin("TaintToleration")},
		{"node-e", fwk.NewStatus(fwk.UnschedulableAndUnresolvable, "left out")},
	}
	got := rejections(len(verdicts), func(i int) (string, *fwk.Status) { return verdicts[i].node, verdicts[i].s })
	want := []explanation.Rejection{
		{Plugin: "NodeResourcesFit", Nodes: 2, Example: "node-b", Reason: "Insufficient cpu; Insufficient memory"},
		{Plugin: "PreFilter", Nodes: 1, Example: "node-e", Reason: "left out"},
		{Plugin: "TaintToleration", Nodes: 1, Example: "node-d", Reason: "node(s) had untolerated taint"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEnablePutsThePluginFirstAndKeepsItsArgs(t *testing.T) {
	p := &schedconfig.KubeSchedulerProfile{Plugins: &schedconfig.Plugins{
		MultiPoint: schedconfig.PluginSet{Enabled: []schedconfig.Plugin{{Name: "ResourceAware"}}},
		Reserve:    schedconfig.PluginSet{Enabled: []schedconfig.Plugin{{Name: "VolumeBinding"}, {Name: Name}}},
	}}
	for range 2 {
		if err := Enable(p, 2.5); err != nil {
			t.Fatal(err)
		}
	}
	names := func(ps []schedconfig.Plugin) (out []string) {
		for _, pl := range ps {
			out = append(out, pl.Name)
		}
		return out
	}
	if got := names(p.Plugins.MultiPoint.Enabled); !cmp.Equal(got, []string{"ResourceAware", Name}) {
		t.Errorf("multiPoint %v", got)
	}
	if got := names(p.Plugins.Reserve.Enabled); !cmp.Equal(got, []string{Name, "VolumeBinding"}) {
		t.Errorf("reserve %v, want %s first, once", got, Name)
	}
	if got := names(p.Plugins.PostFilter.Enabled); !cmp.Equal(got, []string{Name}) {
		t.Errorf("postFilter %v", got)
	}
	if len(p.PluginConfig) != 1 {
		t.Fatalf("pluginConfig %+v, want one entry", p.PluginConfig)
	}
	if diff := cmp.Diff(&config.ExplainArgs{SamplePercent: 2.5, NextBestNodes: 3}, p.PluginConfig[0].Args); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	p.PluginConfig[0].Args = &config.ExplainArgs{NextBestNodes: 7}
	if err := Enable(p, 1); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&config.ExplainArgs{SamplePercent: 1, NextBestNodes: 7}, p.PluginConfig[0].Args); diff != "" {
		t.Errorf("a profile's own arguments: (-want +got):\n%s", diff)
	}
}

func TestNewRefusesBadArgs(t *testing.T) {
	for _, tc := range []struct {
		args *config.ExplainArgs
		want string
	}{
		{&config.ExplainArgs{SamplePercent: 101, NextBestNodes: 3}, "ExplainArgs.samplePercent: Invalid value: 101: must be between 0 and 100"},
		{&config.ExplainArgs{SamplePercent: -1, NextBestNodes: 3}, "ExplainArgs.samplePercent: Invalid value: -1"},
		{&config.ExplainArgs{NextBestNodes: validation.MaxNextBestNodes + 1}, "ExplainArgs.nextBestNodes: Invalid value: 11: must be between 0 and 10"},
	} {
		_, err := New(t.Context(), tc.args, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one with %q", tc.args, err, tc.want)
		}
	}
}

func newPod(name string) *v1.Pod {
	return &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
}
