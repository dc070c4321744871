package upstream

import (
	"strings"
	"testing"
)

// Every count is refused above an int32, and a plan's objects above the
// ceiling, before anything runs; each message names the field (with its
// line and the --set that gave it), the value and the ceiling.
func TestCeilings(t *testing.T) {
	const int32Refusal = "is more than 2147483647, the most any count may be (Kubernetes counts are 32-bit)"
	for _, tc := range []struct {
		name, from, to   string
		sets             map[string]int
		ceiling          int
		loadErr, planErr string
	}{
		{name: "literal count", from: "countParam: $nodes", to: "count: 3000000000",
			loadErr: "config.yaml:4: Basic.workloadTemplate[0] (createNodes).count: 3000000000 " + int32Refusal},
		{name: "param", from: "{nodes: 5,", to: "{nodes: 3000000000,",
			planErr: "config.yaml:4: Basic/small: workloadTemplate[0] (createNodes): param $nodes: 3000000000 " + int32Refusal},
		{name: "param past an int64", from: "{nodes: 5,", to: "{nodes: 1e30,",
			planErr: "config.yaml:4: Basic/small: workloadTemplate[0] (createNodes): param $nodes: 1000000000000000000000000000000 " + int32Refusal},
		{name: "param from --set", sets: map[string]int{"pods": 3_000_000_000},
			planErr: "config.yaml:6: Basic/small: workloadTemplate[1] (createPods): param $pods (--set pods=3000000000): 3000000000 " + int32Refusal},
		{name: "createAny count", from: "  workloads:", to: "  - {opcode: createAny, templatePath: pod.yaml, namespace: x, count: 4294967296}\n  workloads:",
			loadErr: "config.yaml:9: Basic.workloadTemplate[2] (createAny).count: 4294967296 " + int32Refusal},
		{name: "churn number", from: "  workloads:", to: "  - {opcode: churn, mode: recreate, number: 2147483648, templatePaths: [pod.yaml]}\n  workloads:",
			loadErr: "config.yaml:9: Basic.workloadTemplate[2] (churn).number: 2147483648 " + int32Refusal},
		// Found by reading the executor: each would make time.NewTicker panic.
		{name: "churn interval", from: "  workloads:", to: "  - {opcode: churn, mode: create, intervalMilliseconds: -1, templatePaths: [pod.yaml]}\n  workloads:",
			loadErr: "config.yaml:9: Basic.workloadTemplate[2] (churn).intervalMilliseconds: -1: want 0 (the default, 500) to 2147483647"},
		{name: "delete rate", from: "  workloads:", to: "  - {opcode: deletePods, namespace: x, deletePodsPerSecond: 2000000000}\n  workloads:",
			loadErr: "config.yaml:9: Basic.workloadTemplate[2] (deletePods).deletePodsPerSecond: 2000000000 is more than 1000000000, one a nanosecond"},

		{name: "nodes over the ceiling", sets: map[string]int{"nodes": 300_000}, ceiling: 250_000,
			planErr: "config.yaml:4: Basic/small: createNodes countParam $nodes (--set nodes=300000): 300000 makes the run 300000 nodes and 10 pods, 300010 objects, " +
				"more than the ceiling of 250000; if that is meant and the machine has the memory (about 50 KiB an object), raise it with --max-objects"},
		{name: "pods over the ceiling", from: "pods: 10}", to: "pods: 200}", ceiling: 100,
			planErr: "config.yaml:6: Basic/small: createPods countParam $pods: 200 makes the run 5 nodes and 200 pods, 205 objects, more than the ceiling of 100;"},
		{name: "literal objects over the ceiling", from: "  workloads:", to: "  - {opcode: createAny, templatePath: pod.yaml, namespace: x, count: 90}\n  workloads:", ceiling: 100,
			planErr: "config.yaml:9: Basic/small: createAny count: 90 makes the run 5 nodes and 100 pods, 105 objects, more than the ceiling of 100;"},
		// Refused before the sets are unrolled into steps.
		{name: "pod sets", from: "  workloads:", to: "  - {opcode: createPodSets, count: 1000000000, namespacePrefix: s, createPodsOp: {opcode: createPods, count: 1}}\n  workloads:", ceiling: 1000,
			planErr: "config.yaml:9: Basic/small: workloadTemplate[2] (createPodSets): count: 1000000000 sets, more than the ceiling of 1000 objects; if that is meant, raise it with --max-objects"},
		{name: "negative ceiling", ceiling: -5, planErr: "--max-objects=-5: want 0 (the default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(basicConfig, tc.from) {
				t.Fatalf("test broken: %q not in the config", tc.from)
			}
			dir := writeFiles(t, map[string]string{"config.yaml": strings.Replace(basicConfig, tc.from, tc.to, 1), "pod.yaml": podTemplate})
			f, c, w, ok := loadSelected(t, dir, tc.loadErr)
			if !ok {
				return
			}
			_, err := f.PlanWithCeiling(c, w, tc.sets, tc.ceiling)
			wantErr(t, "Plan", err, tc.planErr)
		})
	}
}

func TestCeilingRaisedKnowingly(t *testing.T) {
	dir := writeFiles(t, map[string]string{"config.yaml": basicConfig, "pod.yaml": podTemplate})
	f, c, w, _ := loadSelected(t, dir, "")
	if _, err := f.PlanWithCeiling(c, w, map[string]int{"nodes": 300_000}, 400_000); err != nil {
		t.Errorf("with --max-objects=400000: %v", err)
	}
	// Exactly at the ceiling passes: 5 nodes and 10 pods.
	if _, err := f.PlanWithCeiling(c, w, nil, 15); err != nil {
		t.Errorf("at the ceiling: %v", err)
	}
	if _, err := f.PlanWithCeiling(c, w, nil, 14); err == nil {
		t.Error("one over the ceiling passed")
	}
}
