package zonespread

import (
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/placer-dev/placer/pkg/plugins/internal/plugintest"
)

// counter reads one series of a counter vector; a series never touched reads 0.
func counter(t *testing.T, name, label string) float64 {
	t.Helper()
	vec := attempts
	if name == "filter_rejections_total" {
		vec = filterRejections
	}
	return plugintest.CounterValue(t, vec, label)
}

// TestMetricsCountDecisionsAndRejections: each PreFilter counts one decision,
// each rejected node one rejection by its reason. The counters are process
// wide, so the test compares before and after.
func TestMetricsCountDecisionsAndRejections(t *testing.T) {
	registerMetrics()
	type key struct{ name, label string }
	keys := []key{
		{"attempts_total", "spread"}, {"attempts_total", "bound_waived"}, {"attempts_total", "score_only"},
		{"attempts_total", "opt_out"}, {"attempts_total", "own_constraints"}, {"attempts_total", "not_replicated"},
		{"filter_rejections_total", "max_skew"}, {"filter_rejections_total", "missing_label"},
	}
	before := map[key]float64{}
	for _, k := range keys {
		before[k] = counter(t, k.name, k.label)
	}

	// Zone a holds 2, b 1, c 1, and x has no zone: a1..a3 fail max_skew, x missing_label.
	c := newCluster(t, nil, append(threeZones(), mkNode("x", ""))...)
	c.bindReplicas("StatefulSet", "web", "a1", "a2", "b1", "c1")
	c.feasibleNodes(t, owned("w5", "StatefulSet", "web"))

	optedOut := owned("q", "StatefulSet", "s")
	optedOut.Annotations = map[string]string{OptOutAnnotation: "true"}
	c.feasibleNodes(t, optedOut)
	withTSC := owned("p", "StatefulSet", "s")
	withTSC.Spec.TopologySpreadConstraints = []v1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: zoneKey, WhenUnsatisfiable: v1.DoNotSchedule}}
	c.feasibleNodes(t, withTSC)
	c.feasibleNodes(t, owned("r", "", ""))

	// No node carries the key: the bound is waived.
	zoneless := newCluster(t, nil, mkNode("y", ""))
	zoneless.feasibleNodes(t, owned("z1", "StatefulSet", "s"))

	// Only a soft constraint: nothing to filter.
	args, err := DefaultArgs()
	if err != nil {
		t.Fatal(err)
	}
	args.Constraints = args.Constraints[len(args.Constraints)-1:]
	args.Constraints[0].MaxSkew = nil
	soft := newCluster(t, args, threeZones()...)
	soft.feasibleNodes(t, owned("s1", "StatefulSet", "s"))

	want := map[key]float64{
		{"attempts_total", "spread"}: 1, {"attempts_total", "bound_waived"}: 1, {"attempts_total", "score_only"}: 1,
		{"attempts_total", "opt_out"}: 1, {"attempts_total", "own_constraints"}: 1, {"attempts_total", "not_replicated"}: 1,
		{"filter_rejections_total", "max_skew"}: 3, {"filter_rejections_total", "missing_label"}: 1,
	}
	for _, k := range keys {
		if got := counter(t, k.name, k.label) - before[k]; got != want[k] {
			t.Errorf("placer_zonespread_%s{%s} grew by %v, want %v", k.name, k.label, got, want[k])
		}
	}
}
