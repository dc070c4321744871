package resourceaware

import (
	"context"
	"math"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/apis/config"
)

func guarded(name string, percent int32) config.ResourcePolicy {
	return config.ResourcePolicy{Name: name, Strategy: config.LeastAllocated, Weight: 1, MaxRequestedPercent: ptr.To(percent)}
}

// filter runs PreFilter and, unless skipped, Filter; skipped reports a Skip from PreFilter.
func filter(t *testing.T, pl *ResourceAware, pod *v1.Pod, ni *framework.NodeInfo) (st *fwk.Status, skipped bool) {
	t.Helper()
	state := framework.NewCycleState()
	_, pst := pl.PreFilter(context.Background(), state, pod, nil)
	if pst.IsSkip() {
		return nil, true
	}
	if !pst.IsSuccess() {
		t.Fatalf("PreFilter: %v", pst)
	}
	return pl.Filter(context.Background(), state, pod, ni), false
}

func TestFilterHeadroom(t *testing.T) {
	node := makeNode(rl("cpu", "8", "memory", "16Gi", "pods", "10", string(gpu), "4"))
	existing := makePod("existing", rl("cpu", "6", "memory", "8Gi", string(gpu), "3"))
	cases := []struct {
		name       string
		resources  []config.ResourcePolicy
		pod        *v1.Pod
		wantSkip   bool
		wantReason string // empty: passes
	}{
		// 6 + 1 = 7 of 8 = 87.5% <= 90%.
		{"under the ceiling", []config.ResourcePolicy{guarded("cpu", 90)}, makePod("p", rl("cpu", "1")), false, ""},
		// 6 + 1.2 = 7.2 of 8 = 90% exactly: allowed.
		{"at the ceiling", []config.ResourcePolicy{guarded("cpu", 90)}, makePod("p", rl("cpu", "1200m")), false, ""},
		{"over the ceiling", []config.ResourcePolicy{guarded("cpu", 90)}, makePod("p", rl("cpu", "1300m")), false,
			"cpu would be 91 percent requested (7300m of 8), above the 90 percent ceiling"},
		{"memory reason in binary units", []config.ResourcePolicy{guarded("memory", 50)}, makePod("p", rl("memory", "1Gi")), false,
			"memory would be 56 percent requested (9Gi of 16Gi), above the 50 percent ceiling"},
		{"extended resource", []config.ResourcePolicy{guarded(string(gpu), 75)}, makePod("p", rl(string(gpu), "1")), false,
			"nvidia.com/gpu would be 100 percent requested (4 of 4), above the 75 percent ceiling"},
		// A pod asking for no GPU is not held back by the GPU ceiling, though
		// the node is already at 75%: PreFilter skips Filter.
		{"resource not requested skips", []config.ResourcePolicy{guarded(string(gpu), 50)}, makePod("p", rl("cpu", "1")), true, ""},
		// Missing cpu request: the guard uses real requests, not the non-zero
		// defaults scoring uses, so nothing is added and Filter is skipped.
		{"no requests skip", []config.ResourcePolicy{guarded("cpu", 10)}, makePod("p", nil), true, ""},
		{"no ceilings skip", []config.ResourcePolicy{{Name: "cpu", Strategy: config.LeastAllocated, Weight: 1}}, makePod("p", rl("cpu", "7")), true, ""},
		// Every pod takes a pod slot: 1 existing + 1 of 10 = 20% > 10%.
		{"pods resource", []config.ResourcePolicy{guarded("pods", 10)}, makePod("p", nil), false,
			"pods would be 20 percent requested (2 of 10), above the 10 percent ceiling"},
		{"second of two ceilings", []config.ResourcePolicy{guarded("cpu", 100), guarded("memory", 60)},
			makePod("p", rl("cpu", "1", "memory", "2Gi")), false,
			"memory would be 62 percent requested (10Gi of 16Gi), above the 60 percent ceiling"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pl := plugin(t, tc.resources...)
			st, skipped := filter(t, pl, tc.pod, nodeInfo(node, existing))
			if skipped != tc.wantSkip {
				t.Fatalf("skipped = %v, want %v", skipped, tc.wantSkip)
			}
			if tc.wantReason == "" {
				if !st.IsSuccess() {
					t.Errorf("rejected: %v", st)
				}
				return
			}
			if st.Code() != fwk.Unschedulable {
				t.Fatalf("code = %v, want Unschedulable (%v)", st.Code(), st)
			}
			if got := st.Reasons(); len(got) != 1 || got[0] != tc.wantReason {
				t.Errorf("reasons = %q, want %q", got, tc.wantReason)
			}
		})
	}
}

func TestFilterNodeWithoutTheResource(t *testing.T) {
	pl := plugin(t, guarded(string(gpu), 50))
	// NodeResourcesFit rejects a GPU pod on a GPU-less node; the guard has
	// nothing to say and must not divide by zero.
	st, _ := filter(t, pl, makePod("p", rl(string(gpu), "1")), nodeInfo(makeNode(rl("cpu", "4"))))
	if !st.IsSuccess() {
		t.Errorf("got %v", st)
	}
}

func TestExceedsIsExactForHugeFigures(t *testing.T) {
	big := int64(math.MaxInt64)
	cases := []struct {
		after, alloc, pct int64
		want              bool
	}{
		{90, 100, 90, false},
		{91, 100, 90, true},
		{big, big, 100, false},
		{big, big, 99, true},
		{big / 2, big, 50, false},  // (2^63-1)/2 is just under half
		{big/2 + 1, big, 50, true}, // just over
		{0, 1, 1, false},
	}
	for _, tc := range cases {
		if got := exceeds(tc.after, tc.alloc, tc.pct); got != tc.want {
			t.Errorf("exceeds(%d, %d, %d) = %v, want %v", tc.after, tc.alloc, tc.pct, got, tc.want)
		}
	}
	// Through the filter: node and pods with memory near MaxInt64 bytes.
	pl := plugin(t, guarded("memory", 99))
	huge := *resource.NewQuantity(big-1, resource.BinarySI)
	node := makeNode(v1.ResourceList{v1.ResourceMemory: huge})
	st, _ := filter(t, pl, makePod("p", v1.ResourceList{v1.ResourceMemory: huge}), nodeInfo(node))
	if st.Code() != fwk.Unschedulable {
		t.Errorf("a pod requesting all memory passed a 99%% ceiling: %v", st)
	}
}

func TestEventsToRegister(t *testing.T) {
	pl := plugin(t, guarded("cpu", 90))
	events, err := pl.EventsToRegister(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var node, pod bool
	for _, e := range events {
		node = node || (e.Event.Resource == fwk.Node && e.Event.ActionType&fwk.UpdateNodeAllocatable != 0)
		pod = pod || (e.Event.Resource == fwk.Pod && e.Event.ActionType&fwk.Delete != 0)
	}
	if !node || !pod {
		t.Errorf("events %v lack node allocatable updates or pod deletions", events)
	}
}
