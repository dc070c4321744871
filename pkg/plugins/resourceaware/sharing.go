package resourceaware

import (
	"context"
	"fmt"
	"slices"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/gpushare"
	"github.com/placer-dev/placer/pkg/plugins/internal/pluginkit"
)

// gpuSharing is the configured device accounting: which resource counts
// devices, and the annotation and label keys.
type gpuSharing struct {
	resource         v1.ResourceName
	shareAnnotation  string
	deviceAnnotation string
	modelsAnnotation string
	modelLabel       string
}

func newGPUSharing(p *config.GPUSharingPolicy) *gpuSharing {
	if p == nil || !p.Enabled {
		return nil
	}
	return &gpuSharing{resource: v1.ResourceName(p.Resource), shareAnnotation: p.ShareAnnotation,
		deviceAnnotation: p.DeviceAnnotation, modelsAnnotation: p.ModelsAnnotation, modelLabel: p.ModelLabel}
}

// gpuDemand is what a pod asks of GPU devices: a share of one device, or
// whole devices; and the models it accepts (empty: any).
type gpuDemand struct {
	share  int64
	whole  int64
	models []string
}

func (d gpuDemand) none() bool { return d.share == 0 && d.whole == 0 }

// milliPerDevice is what the pod takes on each of its devices.
func (d gpuDemand) milliPerDevice() int64 {
	if d.share > 0 {
		return d.share
	}
	return milliPerDevice
}

// milli is the pod's whole GPU demand in milli-GPU.
func (d gpuDemand) milli() int64 {
	if d.share > 0 {
		return d.share
	}
	return d.whole * milliPerDevice
}

// demand reads the pod's GPU demand. An error names the annotation, its
// value and what is wanted: a share that is not 1 to 999, a share beside
// a request for whole GPUs, or an unreadable model list.
func (g *gpuSharing) demand(pod *v1.Pod, reqs requestOptions) (gpuDemand, error) {
	var d gpuDemand
	d.whole = amount(reqs.podRequests(pod, false), g.resource)
	if v, ok := pod.Annotations[g.shareAnnotation]; ok {
		share, err := gpushare.ParseShare(g.shareAnnotation, v)
		if err != nil {
			return d, err
		}
		if d.whole > 0 {
			return d, fmt.Errorf("annotation %s=%q beside a request for %d %s: ask for a share of one GPU or for whole GPUs, not both",
				g.shareAnnotation, v, d.whole, g.resource)
		}
		d.share = share
	}
	if v, ok := pod.Annotations[g.modelsAnnotation]; ok {
		models, err := gpushare.ParseModels(g.modelsAnnotation, v)
		if err != nil {
			return d, err
		}
		d.models = models
	}
	return d, nil
}

// modelAccepted reports whether the node's GPU model is one the pod accepts.
func (g *gpuSharing) modelAccepted(d gpuDemand, node *v1.Node) bool {
	return len(d.models) == 0 || slices.Contains(d.models, node.Labels[g.modelLabel])
}

// filterDevices is the device half of Filter.
func (pl *ResourceAware) filterDevices(d gpuDemand, nodeInfo fwk.NodeInfo) *fwk.Status {
	if !pl.gpu.modelAccepted(d, nodeInfo.Node()) {
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, fmt.Sprintf("node's GPU model (label %s) is not one of %v (annotation %s)",
			pl.gpu.modelLabel, d.models, pl.gpu.modelsAnnotation))
	}
	if d.none() {
		return nil
	}
	v := pl.ledger.view(nodeInfo, pl.gpu.resource)
	if v.fits(d) {
		return nil
	}
	if d.share > 0 {
		return fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("no GPU device has %d thousandths free", d.share))
	}
	return fwk.NewStatus(fwk.Unschedulable, fmt.Sprintf("fewer than %d GPU devices entirely free (a device holding a share is not)", d.whole))
}

const deviceStateKey fwk.StateKey = "Devices" + Name

// deviceState is the devices Reserve took, for PreBind to write.
type deviceState struct {
	devices []int
}

func (s *deviceState) Clone() fwk.StateData { return s }

// reserveDevices picks the pod's devices on the chosen node and records
// them: for a share, the device where the pod fragments the node least
// (the fullest device it fits on when no mix is known yet); for whole
// GPUs, the first entirely free devices.
func (pl *ResourceAware) reserveDevices(cycle fwk.CycleState, pod *v1.Pod, nodeName string) *fwk.Status {
	d, err := pl.gpu.demand(pod, pl.requests)
	if err != nil {
		return fwk.NewStatus(fwk.UnschedulableAndUnresolvable, err.Error())
	}
	if d.none() || pl.nodeInfos == nil {
		return nil
	}
	nodeInfo, err := pl.nodeInfos.Get(nodeName)
	if err != nil {
		return fwk.AsStatus(err)
	}
	v := pl.ledger.view(nodeInfo, pl.gpu.resource)
	var chosen []int
	if d.share > 0 {
		if j := pl.shareDevice(pod, d, nodeInfo, &v); j >= 0 {
			chosen = []int{j}
		}
	} else {
		for j := range v.n {
			if int64(len(chosen)) < d.whole && v.free[j] == milliPerDevice {
				chosen = append(chosen, j)
			}
		}
		if int64(len(chosen)) < d.whole {
			chosen = nil
		}
	}
	if chosen == nil {
		return fwk.NewStatus(fwk.Unschedulable, "the GPU devices Filter found free are taken")
	}
	pl.ledger.add(pod.UID, podDevices{node: nodeName, devices: chosen, milli: d.milliPerDevice()})
	cycle.Write(deviceStateKey, &deviceState{devices: chosen})
	return nil
}

// shareDevice is the device a share goes to on this node, -1 if none.
func (pl *ResourceAware) shareDevice(pod *v1.Pod, d gpuDemand, nodeInfo fwk.NodeInfo, v *devices) int {
	if t := pl.mix.current(); t != nil {
		if _, j, ok := t.delta(pl.nodeFree(nodeInfo), pl.gpu.modelOf(nodeInfo), v, pl.podShape(pod, d)); ok {
			return j
		}
	}
	best := -1
	for j, f := range v.free[:v.n] {
		if f >= d.share && (best < 0 || f < v.free[best]) {
			best = j
		}
	}
	return best
}

func (g *gpuSharing) modelOf(nodeInfo fwk.NodeInfo) string {
	return nodeInfo.Node().Labels[g.modelLabel]
}

// PreBindPreFlight says whether PreBind has a device annotation to write.
func (pl *ResourceAware) PreBindPreFlight(_ context.Context, cycle fwk.CycleState, _ *v1.Pod, _ string) *fwk.Status {
	if _, err := cycle.Read(deviceStateKey); err != nil {
		return fwk.NewStatus(fwk.Skip)
	}
	return nil
}

// PreBind writes the devices Reserve chose to the pod's device annotation,
// for a device plugin to honour (README.md, "GPU sharing").
func (pl *ResourceAware) PreBind(ctx context.Context, cycle fwk.CycleState, pod *v1.Pod, _ string) *fwk.Status {
	c, err := cycle.Read(deviceStateKey)
	if err != nil {
		return nil
	}
	s, ok := c.(*deviceState)
	if !ok || pl.handle == nil {
		return nil
	}
	if err := pluginkit.Annotate(ctx, pl.handle.ClientSet(), pod, pl.gpu.deviceAnnotation, gpushare.FormatDevices(s.devices)); err != nil {
		return fwk.AsStatus(err)
	}
	return nil
}
