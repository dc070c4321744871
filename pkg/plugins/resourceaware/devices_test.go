package resourceaware

import (
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// After a restart the ledger is empty; the informer's Add events for the
// pods already bound, whose device annotations say where Reserve put
// them, must give back the view the scheduler had before.
func TestLedgerRebuiltFromBoundPodsAfterARestart(t *testing.T) {
	node := gpuNode("n", "4", "")
	// Another scheduler's pod: whole GPUs, no annotation; neither ledger
	// holds it, both views count it from the node's requests.
	foreign := boundTo(wholePod("foreign", "1"), "n", "")
	pods := []*v1.Pod{sharePod("a", "300"), sharePod("b", "500"), wholePod("w", "1"), sharePod("c", "700")}
	before := sharingPlugin(t, false, []*v1.Node{node}, foreign)
	addEvents(before, foreign)
	for _, p := range pods {
		// What PreBind writes and the binding sets, from what Reserve chose.
		boundTo(p, "n", reservedDevices(t, reserve(t, before, p, "n")))
	}
	ni := nodeInfo(node, append(pods, foreign)...)
	want := freeMilli(before, ni)
	// Best fit: a 300 and b 500 share device 0 (800), w takes device 1,
	// c 700 goes to device 2; the foreign pod's GPU is device 3, the last.
	if !slices.Equal(want, []int64{200, 0, 300, 0}) {
		t.Fatalf("view before the restart %v, want [200 0 300 0]", want)
	}

	after := sharingPlugin(t, false, []*v1.Node{node})
	addEvents(after, append(pods, foreign)...)
	if got := freeMilli(after, ni); !slices.Equal(got, want) {
		t.Errorf("view rebuilt from the bound pods %v, want %v as before the restart", got, want)
	}
}

// A pod deleted, or finished (Succeeded, Failed: its containers hold no
// device any more), gives its share back.
func TestLedgerForgetsDeletedAndFinishedPods(t *testing.T) {
	node := gpuNode("n", "4", "")
	gone := func(h cache.ResourceEventHandlerFuncs, p *v1.Pod) { h.DeleteFunc(p) }
	goneUnseen := func(h cache.ResourceEventHandlerFuncs, p *v1.Pod) {
		h.DeleteFunc(cache.DeletedFinalStateUnknown{Key: "ns/" + p.Name, Obj: p})
	}
	finished := func(phase v1.PodPhase) func(cache.ResourceEventHandlerFuncs, *v1.Pod) {
		return func(h cache.ResourceEventHandlerFuncs, p *v1.Pod) {
			done := p.DeepCopy()
			done.Status.Phase = phase
			h.UpdateFunc(p, done)
		}
	}
	for _, tc := range []struct {
		name  string
		event func(cache.ResourceEventHandlerFuncs, *v1.Pod)
	}{
		{"deleted", gone},
		{"deleted while the watch was down", goneUnseen},
		{"succeeded", finished(v1.PodSucceeded)},
		{"failed", finished(v1.PodFailed)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stays := boundTo(sharePod("stays", "200"), "n", "0")
			goes := boundTo(sharePod("goes", "600"), "n", "2")
			pl := sharingPlugin(t, true, []*v1.Node{node})
			addEvents(pl, stays, goes)
			ni := nodeInfo(node, stays, goes)
			if got := freeMilli(pl, ni); !slices.Equal(got, []int64{800, 1000, 400, 1000}) {
				t.Fatalf("free per device %v, want [800 1000 400 1000]", got)
			}
			tc.event(pl.podHandler(), goes)
			if got := freeMilli(pl, ni); !slices.Equal(got, []int64{800, 1000, 1000, 1000}) {
				t.Errorf("free per device %v after the event, want [800 1000 1000 1000]", got)
			}
		})
	}
}

// A device annotation the pod's request does not match (another tool's,
// or edited by hand) is not recorded: trusting it would hold devices the
// pod does not use.
func TestLedgerIgnoresDeviceAnnotationsThatDoNotMatchTheRequest(t *testing.T) {
	node := gpuNode("n", "2", "")
	pods := []*v1.Pod{
		boundTo(sharePod("two-devices", "300"), "n", "0,1"),
		boundTo(wholePod("one-of-two", "2"), "n", "1"),
	}
	pl := sharingPlugin(t, true, []*v1.Node{node})
	addEvents(pl, pods...)
	// The 2-GPU pod is still counted, as unnamed, from the node's requests.
	if got := freeMilli(pl, nodeInfo(node, pods...)); !slices.Equal(got, []int64{0, 0}) {
		t.Errorf("free per device %v, want [0 0]: the 2-GPU pod's, nothing from the bad annotations", got)
	}
	if got := freeMilli(pl, nodeInfo(node, pods[0])); !slices.Equal(got, []int64{1000, 1000}) {
		t.Errorf("free per device %v with only the share of a bad annotation, want [1000 1000]", got)
	}
}
