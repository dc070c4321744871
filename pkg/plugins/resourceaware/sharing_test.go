package resourceaware

import (
	"context"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	internalcache "k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/noderesources"

	"github.com/placer-dev/placer/pkg/gpushare"
)

// sharingPlugin is the plugin with its default arguments (device
// accounting on), with or without the fragmentation score, and with a
// snapshot of nodes and pods for Reserve to read, as the scheduler gives it.
func sharingPlugin(t *testing.T, fragmentation bool, nodes []*v1.Node, pods ...*v1.Pod) *ResourceAware {
	t.Helper()
	args, err := DefaultArgs()
	if err != nil {
		t.Fatal(err)
	}
	args.Fragmentation.Enabled = fragmentation
	pl, err := newWithArgs(args, nil)
	if err != nil {
		t.Fatal(err)
	}
	pl.nodeInfos = internalcache.NewSnapshot(pods, nodes).NodeInfos()
	return pl
}

// gpuNode is a node with gpus devices of model (no label when empty), and
// cpu and memory to spare.
func gpuNode(name, gpus, model string) *v1.Node {
	n := makeNode(rl("cpu", "64", "memory", "256Gi", "pods", "110", string(gpu), gpus))
	n.Name = name
	if model != "" {
		n.Labels = map[string]string{gpushare.ModelLabel: model}
	}
	return n
}

// annotated returns pod with the annotations of pairs (key, value, ...) added.
func annotated(pod *v1.Pod, pairs ...string) *v1.Pod {
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		pod.Annotations[pairs[i]] = pairs[i+1]
	}
	return pod
}

// sharePod asks for milli thousandths of one GPU.
func sharePod(name, milli string) *v1.Pod {
	return annotated(makePod(name, nil), gpushare.ShareAnnotation, milli)
}

// wholePod asks for n whole GPUs.
func wholePod(name, n string) *v1.Pod {
	return makePod(name, rl(string(gpu), n))
}

// boundTo binds pod to node, holding the devices of the annotation (none
// written when devices is empty, as another scheduler binds), and returns it.
func boundTo(pod *v1.Pod, node, devices string) *v1.Pod {
	pod.Spec.NodeName = node
	if devices != "" {
		annotated(pod, gpushare.DeviceAnnotation, devices)
	}
	return pod
}

// addEvents feeds pods to the plugin's pod informer handler as Add
// events, as the informer does at start for the pods already there.
func addEvents(pl *ResourceAware, pods ...*v1.Pod) {
	h := pl.podHandler()
	for _, p := range pods {
		h.AddFunc(p)
	}
}

// freeMilli is the free milli-GPU of each device of the node, as Filter,
// Score and Reserve see it.
func freeMilli(pl *ResourceAware, ni fwk.NodeInfo) []int64 {
	v := pl.ledger.view(ni, gpu)
	return slices.Clone(v.free[:v.n])
}

// reserve runs PreFilter and Reserve for pod on node, as a scheduling
// cycle that chose the node does, and returns the cycle state.
func reserve(t *testing.T, pl *ResourceAware, pod *v1.Pod, node string) fwk.CycleState {
	t.Helper()
	state := framework.NewCycleState()
	if _, st := pl.PreFilter(context.Background(), state, pod, nil); !st.IsSuccess() && !st.IsSkip() {
		t.Fatalf("PreFilter %s: %v", pod.Name, st)
	}
	if st := pl.Reserve(context.Background(), state, pod, node); !st.IsSuccess() {
		t.Fatalf("Reserve %s on %s: %v", pod.Name, node, st)
	}
	return state
}

// reservedDevices is what Reserve chose, as PreBind will write it; empty
// when it chose none.
func reservedDevices(t *testing.T, state fwk.CycleState) string {
	t.Helper()
	c, err := state.Read(deviceStateKey)
	if err != nil {
		return ""
	}
	return gpushare.FormatDevices(c.(*deviceState).devices)
}

func TestFilterShareNeedsADeviceWithRoom(t *testing.T) {
	node := gpuNode("n", "2", "")
	// Device 0 holds 700 (free 300), device 1 holds 800 (free 200).
	held := []*v1.Pod{
		boundTo(sharePod("a", "400"), "n", "0"), boundTo(sharePod("b", "300"), "n", "0"),
		boundTo(sharePod("c", "800"), "n", "1"),
	}
	pl := sharingPlugin(t, true, []*v1.Node{node}, held...)
	addEvents(pl, held...)
	ni := nodeInfo(node, held...)
	if got := freeMilli(pl, ni); !slices.Equal(got, []int64{300, 200}) {
		t.Fatalf("free per device %v, want [300 200]", got)
	}
	// 300 fits on device 0 exactly; 200 on either.
	for _, milli := range []string{"300", "200", "1"} {
		if st, _ := filter(t, pl, sharePod("p", milli), ni); !st.IsSuccess() {
			t.Errorf("share %s rejected: %v", milli, st)
		}
	}
	// 400 is less than the node's 500 free in all, but no one device has it.
	st, _ := filter(t, pl, sharePod("p", "400"), ni)
	if st.Code() != fwk.Unschedulable || st.Message() != "no GPU device has 400 thousandths free" {
		t.Errorf("share 400 on devices with 300 and 200 free: %v, want Unschedulable, no GPU device has 400 thousandths free", st)
	}
}

// NodeResourcesFit counts nvidia.com/gpu as a number, and shares request
// none: on a node whose every device holds a share, its count says every
// GPU is free. A pod asking for a whole GPU must still be rejected.
func TestFilterWholeGPUNeedsAnEntirelyFreeDevice(t *testing.T) {
	node := gpuNode("n", "2", "")
	held := []*v1.Pod{boundTo(sharePod("a", "100"), "n", "0"), boundTo(sharePod("b", "100"), "n", "1")}
	pl := sharingPlugin(t, true, []*v1.Node{node}, held...)
	addEvents(pl, held...)
	ni := nodeInfo(node, held...)
	pod := wholePod("p", "1")

	fit, err := noderesources.NewFit(context.Background(), &schedconfig.NodeResourcesFitArgs{
		ScoringStrategy: &schedconfig.ScoringStrategy{Type: schedconfig.LeastAllocated, Resources: []schedconfig.ResourceSpec{{Name: "cpu", Weight: 1}}},
	}, nil, feature.Features{})
	if err != nil {
		t.Fatal(err)
	}
	fitState := framework.NewCycleState()
	if _, st := fit.(framework.PreFilterPlugin).PreFilter(context.Background(), fitState, pod, nil); !st.IsSuccess() {
		t.Fatal(st)
	}
	if st := fit.(framework.FilterPlugin).Filter(context.Background(), fitState, pod, ni); !st.IsSuccess() {
		t.Fatalf("NodeResourcesFit rejects the pod (%v): the case is meant to be one its count lets through", st)
	}

	st, _ := filter(t, pl, pod, ni)
	const want = "fewer than 1 GPU devices entirely free (a device holding a share is not)"
	if st.Code() != fwk.Unschedulable || st.Message() != want {
		t.Errorf("whole GPU on devices each holding a share: %v, want Unschedulable, %q", st, want)
	}
	// A share still fits beside the others.
	if st, _ := filter(t, pl, sharePod("s", "900"), ni); !st.IsSuccess() {
		t.Errorf("share 900 beside shares of 100: %v", st)
	}
}

// A pod bound with whole GPUs and no device annotation (by another
// scheduler) holds devices nobody named: they are taken from the entirely
// free devices, the last first, and are not offered again.
func TestWholeGPUsOfUnannotatedPodsTakeFreeDevices(t *testing.T) {
	node := gpuNode("n", "4", "")
	foreign := boundTo(wholePod("foreign", "2"), "n", "")
	share := boundTo(sharePod("s", "500"), "n", "0")
	pl := sharingPlugin(t, true, []*v1.Node{node}, foreign, share)
	addEvents(pl, foreign, share)
	ni := nodeInfo(node, foreign, share)
	if got := freeMilli(pl, ni); !slices.Equal(got, []int64{500, 1000, 0, 0}) {
		t.Fatalf("free per device %v, want [500 1000 0 0]: the foreign pod's 2 GPUs on the last free devices", got)
	}
	// NodeResourcesFit's count: 4 - 2 = 2 free. Devices: only device 1.
	if st, _ := filter(t, pl, wholePod("one", "1"), ni); !st.IsSuccess() {
		t.Errorf("1 whole GPU with device 1 free: %v", st)
	}
	if st, _ := filter(t, pl, wholePod("two", "2"), ni); st.Code() != fwk.Unschedulable {
		t.Errorf("2 whole GPUs with only device 1 entirely free: %v, want Unschedulable", st)
	}
	if st, _ := filter(t, pl, sharePod("big", "600"), ni); !st.IsSuccess() {
		t.Errorf("share 600 with device 1 free: %v", st)
	}
}

func TestReserveRecordsTheDeviceAndUnreserveGivesItBack(t *testing.T) {
	node := gpuNode("n", "1", "")
	pl := sharingPlugin(t, false, []*v1.Node{node})
	ni := nodeInfo(node)
	first, second := sharePod("first", "600"), sharePod("second", "500")

	state := reserve(t, pl, first, "n")
	if got := reservedDevices(t, state); got != "0" {
		t.Fatalf("Reserve chose devices %q, want 0 (the node's only one)", got)
	}
	if got := freeMilli(pl, ni); !slices.Equal(got, []int64{400}) {
		t.Errorf("free after reserving 600: %v, want [400]", got)
	}
	// The second share sees what the first took, before any binding.
	if st, _ := filter(t, pl, second, ni); st.Code() != fwk.Unschedulable {
		t.Errorf("share 500 beside a reserved 600 on one device: %v, want Unschedulable", st)
	}

	pl.Unreserve(context.Background(), state, first, "n")
	if got := freeMilli(pl, ni); !slices.Equal(got, []int64{1000}) {
		t.Errorf("free after Unreserve: %v, want [1000]", got)
	}
	if st, _ := filter(t, pl, second, ni); !st.IsSuccess() {
		t.Errorf("share 500 after the 600 was unreserved: %v", st)
	}
}

func TestReserveWholeGPUsTakesEntirelyFreeDevices(t *testing.T) {
	node := gpuNode("n", "4", "")
	held := boundTo(sharePod("s", "100"), "n", "1")
	pl := sharingPlugin(t, false, []*v1.Node{node}, held)
	addEvents(pl, held)
	// Device 1 holds a share: two whole GPUs go to 0 and 2, the first free.
	if got := reservedDevices(t, reserve(t, pl, wholePod("p", "2"), "n")); got != "0,2" {
		t.Errorf("Reserve chose %q, want 0,2", got)
	}
}

// Without a mix of shapes to weigh (fragmentation off), a share goes to
// the fullest device it fits on, keeping emptier devices whole.
func TestReserveShareBestFitWithoutFragmentation(t *testing.T) {
	node := gpuNode("n", "3", "")
	// Free: 700, 200, 1000.
	held := []*v1.Pod{boundTo(sharePod("a", "300"), "n", "0"), boundTo(sharePod("b", "800"), "n", "1")}
	pl := sharingPlugin(t, false, []*v1.Node{node}, held...)
	addEvents(pl, held...)
	if got := reservedDevices(t, reserve(t, pl, sharePod("p", "300"), "n")); got != "0" {
		t.Errorf("share 300 on devices with 700, 200, 1000 free went to %q, want 0 (the fullest that fits)", got)
	}
}

func TestPreFilterRejectsBadGPUAnnotations(t *testing.T) {
	pl := sharingPlugin(t, true, nil)
	cases := []struct {
		name string
		pod  *v1.Pod
		want string // in the message: the annotation and its value
	}{
		{"share zero", sharePod("p", "0"), `placer.dev/gpu-milli="0"`},
		{"share of a whole GPU", sharePod("p", "1000"), `placer.dev/gpu-milli="1000"`},
		{"share not a number", sharePod("p", "half"), `placer.dev/gpu-milli="half"`},
		{"share beside whole GPUs", annotated(wholePod("p", "1"), gpushare.ShareAnnotation, "300"),
			`placer.dev/gpu-milli="300" beside a request for 1 nvidia.com/gpu`},
		{"empty model in the list", annotated(sharePod("p", "300"), gpushare.ModelsAnnotation, "A100||T4"),
			`placer.dev/gpu-models="A100||T4"`},
		{"empty model at the end", annotated(wholePod("p", "1"), gpushare.ModelsAnnotation, "A100|"),
			`placer.dev/gpu-models="A100|"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, st := pl.PreFilter(context.Background(), framework.NewCycleState(), tc.pod, nil)
			if st.Code() != fwk.UnschedulableAndUnresolvable || !strings.Contains(st.Message(), tc.want) {
				t.Errorf("PreFilter: %v, want UnschedulableAndUnresolvable naming %s", st, tc.want)
			}
		})
	}
}

func TestModelConstraint(t *testing.T) {
	pl := sharingPlugin(t, true, nil)
	pod := annotated(sharePod("p", "300"), gpushare.ModelsAnnotation, "A100|H100")
	for _, tc := range []struct {
		name   string
		model  string
		accept bool
	}{
		{"label of another model", "T4", false},
		{"no label", "", false},
		{"label of an accepted model", "H100", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := filter(t, pl, pod, nodeInfo(gpuNode("n", "2", tc.model)))
			if tc.accept {
				if !st.IsSuccess() {
					t.Errorf("rejected: %v", st)
				}
				return
			}
			if st.Code() != fwk.UnschedulableAndUnresolvable || !strings.Contains(st.Message(), gpushare.ModelLabel) {
				t.Errorf("%v, want UnschedulableAndUnresolvable naming the label %s", st, gpushare.ModelLabel)
			}
		})
	}
}

// PreBind has nothing to write for a pod Reserve gave no device, and says
// so in PreBindPreFlight, so that the scheduler does not wait on it.
func TestPreBindPreFlightSkipsPodsWithoutDevices(t *testing.T) {
	node := gpuNode("n", "1", "")
	pl := sharingPlugin(t, true, []*v1.Node{node})
	cpuOnly := makePod("cpu", rl("cpu", "1"))
	if st := pl.PreBindPreFlight(context.Background(), reserve(t, pl, cpuOnly, "n"), cpuOnly, "n"); !st.IsSkip() {
		t.Errorf("PreBindPreFlight for a pod without GPUs: %v, want Skip", st)
	}
	share := sharePod("share", "300")
	if st := pl.PreBindPreFlight(context.Background(), reserve(t, pl, share, "n"), share, "n"); !st.IsSuccess() {
		t.Errorf("PreBindPreFlight for a share Reserve placed: %v, want Success (a device to write)", st)
	}
}
