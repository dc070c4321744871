package integration

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/placer-dev/placer/pkg/explanation"
)

// waitExplanation waits for the named pod's explanation annotation and
// returns it decoded.
func waitExplanation(t *testing.T, c kubernetes.Interface, name string) *explanation.Explanation {
	t.Helper()
	var exp *explanation.Explanation
	err := poll(context.Background(), func(ctx context.Context) (bool, error) {
		p, err := c.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		value, ok := p.Annotations[explanation.Annotation]
		if !ok {
			return false, nil
		}
		if len(value) > explanation.MaxAnnotationBytes {
			t.Errorf("%s: annotation of %d bytes, above the bound of %d", name, len(value), explanation.MaxAnnotationBytes)
		}
		exp, err = explanation.Decode(value)
		return true, err
	})
	if err != nil {
		t.Fatalf("%s: no explanation: %v", name, err)
	}
	return exp
}

// explainedEvents lists the Explained events of a pod, as
// kubectl get events --field-selector reason=Explained,involvedObject.name=NAME does.
func explainedEvents(t *testing.T, c kubernetes.Interface, name string) []v1.Event {
	t.Helper()
	list, err := c.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{
		FieldSelector: "reason=" + explanation.EventReason + ",involvedObject.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// TestSchedulerExplainsPlacements runs the binary with the shipped
// configuration on two nodes that differ only in cpu, so that the scores
// can be worked out by hand.
func TestSchedulerExplainsPlacements(t *testing.T) {
	_, _, c := startPlacer(t, node("node-a", "4", "8Gi", 0), node("node-b", "2", "8Gi", 0))

	asked := pod("asked", "placer", "1", 0)
	asked.Annotations = map[string]string{explanation.RequestAnnotation: "true"}
	createPods(t, c, asked)

	// A pod of 1 cpu and 256Mi. ResourceAware, weight 3, takes the weighted
	// mean of cpu free (weight 1), memory free (1) and "no GPU here" (5,
	// 100 on nodes without GPUs): node-a (75 + 96.875 + 500) / 7 = 96,
	// node-b (50 + 96.875 + 500) / 7 = 92. TaintToleration, weight 3, gives
	// 100 to both (no taints); ImageLocality 0 (no images). The other
	// scorers skip a pod without affinity, spread constraints or owner.
	exp := waitExplanation(t, c, "asked")
	if exp.Node != "node-a" || exp.Chosen == nil || exp.Chosen.Node != "node-a" {
		t.Fatalf("explanation chose %q (scores %+v), want node-a", exp.Node, exp.Chosen)
	}
	if exp.Nodes != 2 || exp.Feasible != 2 || exp.Scored != 2 {
		t.Errorf("nodes %d, feasible %d, scored %d; want 2 of each", exp.Nodes, exp.Feasible, exp.Scored)
	}
	want := map[string]explanation.PluginScore{
		"ResourceAware":   {Plugin: "ResourceAware", Raw: 96, Weight: 3, Score: 288},
		"TaintToleration": {Plugin: "TaintToleration", Raw: 100, Weight: 3, Score: 300},
		"ImageLocality":   {Plugin: "ImageLocality", Raw: 0, Weight: 1, Score: 0},
	}
	if len(exp.Chosen.Plugins) != len(want) {
		t.Errorf("node-a scored by %+v, want %v", exp.Chosen.Plugins, want)
	}
	for _, p := range exp.Chosen.Plugins {
		if p != want[p.Plugin] {
			t.Errorf("node-a: %+v, want %+v", p, want[p.Plugin])
		}
	}
	if exp.Chosen.Total != 588 {
		t.Errorf("node-a total %d, want 288 + 300 + 0 = 588", exp.Chosen.Total)
	}
	if len(exp.NextBest) != 1 || exp.NextBest[0].Node != "node-b" || exp.NextBest[0].Total != 576 {
		t.Errorf("next best %+v, want node-b at 276 + 300 = 576", exp.NextBest)
	}
	if len(exp.Rejected) != 0 {
		t.Errorf("rejections %+v, want none", exp.Rejected)
	}
	// The event goes out through the scheduler's event broadcaster, which
	// sends it after the annotation is written: wait for it.
	var events []v1.Event
	if err := poll(context.Background(), func(context.Context) (bool, error) {
		events = explainedEvents(t, c, "asked")
		return len(events) > 0, nil
	}); err != nil {
		t.Errorf("no Explained event: %v", err)
	}
	if len(events) != 1 || events[0].Type != v1.EventTypeNormal || events[0].Message != exp.Note() {
		t.Errorf("Explained events %+v, want one Normal event saying %q", events, exp.Note())
	}

	// No node has 8 cpus: both are turned away by NodeResourcesFit.
	big := pod("big", "placer", "8", 0)
	big.Annotations = map[string]string{explanation.RequestAnnotation: "true"}
	createPods(t, c, pod("plain", "placer", "1", 0), big)
	waitUnschedulable(t, c, "big")
	exp = waitExplanation(t, c, "big")
	if exp.Node != "" || exp.Chosen != nil || len(exp.Rejected) != 1 {
		t.Fatalf("unschedulable pod explained as %+v, want no node and one rejection", exp)
	}
	if r := exp.Rejected[0]; r.Plugin != "NodeResourcesFit" || r.Nodes != 2 || r.Example != "node-a" || r.Reason != "Insufficient cpu" {
		t.Errorf("rejection %+v, want NodeResourcesFit on 2 nodes, node-a: Insufficient cpu", r)
	}

	// A pod that did not ask gets nothing. It was created with big, whose
	// explanation is written: plain's binding, scheduled first, is over.
	waitBound(t, c, "plain")
	p, err := c.CoreV1().Pods("default").Get(context.Background(), "plain", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := p.Annotations[explanation.Annotation]; ok {
		t.Errorf("plain, which did not ask, has an explanation: %s", v)
	}
	if ev := explainedEvents(t, c, "plain"); len(ev) != 0 {
		t.Errorf("plain, which did not ask, has Explained events: %+v", ev)
	}
}
