package resourceaware

import (
	"slices"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	fwk "k8s.io/kube-scheduler/framework"

	"github.com/placer-dev/placer/pkg/gpushare"
)

const milliPerDevice = gpushare.MilliPerDevice

// deviceLedger is the share of each GPU device in use, per node: what the
// scheduler's NodeInfo cannot say, since it counts a GPU resource as a
// number. It holds the pods this scheduler reserved devices for and the
// bound pods whose device annotation says which devices they hold (rebuilt
// from those after a restart). A whole-GPU pod bound without the
// annotation (by another scheduler) holds devices nobody named: view
// counts those from the node's requested GPUs and takes them out of the
// entirely free devices.
type deviceLedger struct {
	mu    sync.RWMutex
	nodes map[string]*nodeDevices
	pods  map[types.UID]podDevices
}

// nodeDevices is one node's devices: used[j] is the milli-GPU in use on
// device j; wholeHeld how many devices pods in the ledger hold whole.
type nodeDevices struct {
	used      []int64
	wholeHeld int64
}

// podDevices is where one pod's GPU is: its node, its devices, and the
// milli it takes on each (milliPerDevice for a whole-GPU pod).
type podDevices struct {
	node    string
	devices []int
	milli   int64
}

func newDeviceLedger() *deviceLedger {
	return &deviceLedger{nodes: map[string]*nodeDevices{}, pods: map[types.UID]podDevices{}}
}

// add records pod uid on its devices, replacing what was recorded for it.
func (l *deviceLedger) add(uid types.UID, p podDevices) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.pods[uid]; ok {
		if old.node == p.node && old.milli == p.milli && slices.Equal(old.devices, p.devices) {
			return
		}
		l.releaseLocked(uid, old)
	}
	nd := l.nodes[p.node]
	if nd == nil {
		nd = &nodeDevices{}
		l.nodes[p.node] = nd
	}
	for _, d := range p.devices {
		for len(nd.used) <= d {
			nd.used = append(nd.used, 0)
		}
		nd.used[d] += p.milli
	}
	if p.milli == milliPerDevice {
		nd.wholeHeld += int64(len(p.devices))
	}
	l.pods[uid] = p
}

// remove forgets pod uid, if recorded.
func (l *deviceLedger) remove(uid types.UID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.pods[uid]; ok {
		l.releaseLocked(uid, old)
	}
}

func (l *deviceLedger) releaseLocked(uid types.UID, p podDevices) {
	delete(l.pods, uid)
	nd := l.nodes[p.node]
	if nd == nil {
		return
	}
	for _, d := range p.devices {
		if d < len(nd.used) {
			nd.used[d] = max(nd.used[d]-p.milli, 0)
		}
	}
	if p.milli == milliPerDevice {
		nd.wholeHeld = max(nd.wholeHeld-int64(len(p.devices)), 0)
	}
	if nd.wholeHeld == 0 && !slices.ContainsFunc(nd.used, func(u int64) bool { return u > 0 }) {
		delete(l.nodes, p.node)
	}
}

// devices is one node's devices as Filter, Score and Reserve see them.
type devices struct {
	// free[j] is the milli-GPU free on device j; a device held whole by a
	// pod nobody named is 0.
	free [gpushare.MaxDevices]int64
	n    int
}

// view returns the devices of the node in nodeInfo, or n 0 when it has
// none of the resource.
func (l *deviceLedger) view(nodeInfo fwk.NodeInfo, resource v1.ResourceName) devices {
	var v devices
	alloc, requested := nodeAmounts(nodeInfo, resource, false)
	v.n = int(min(max(alloc, 0), gpushare.MaxDevices))
	if v.n == 0 {
		return v
	}
	for j := range v.n {
		v.free[j] = milliPerDevice
	}
	var held int64
	l.mu.RLock()
	if nd := l.nodes[nodeInfo.Node().Name]; nd != nil {
		for j, u := range nd.used {
			if j < v.n {
				v.free[j] = max(milliPerDevice-u, 0)
			}
		}
		held = nd.wholeHeld
	}
	l.mu.RUnlock()
	// Whole GPUs requested on the node that no recorded pod holds belong
	// to pods bound without the annotation: they take entirely free
	// devices, the last ones first.
	unnamed := requested - held
	for j := v.n - 1; j >= 0 && unnamed > 0; j-- {
		if v.free[j] == milliPerDevice {
			v.free[j] = 0
			unnamed--
		}
	}
	return v
}

// fullyFree counts the devices nothing uses.
func (v *devices) fullyFree() int64 {
	var c int64
	for _, f := range v.free[:v.n] {
		if f == milliPerDevice {
			c++
		}
	}
	return c
}

// fits reports whether the devices can take d.
func (v *devices) fits(d gpuDemand) bool {
	switch {
	case d.share > 0:
		return slices.ContainsFunc(v.free[:v.n], func(f int64) bool { return f >= d.share })
	case d.whole > 0:
		return v.fullyFree() >= d.whole
	}
	return true
}

// podHandler keeps the ledger in step with bound pods: a pod bound with
// the device annotation is recorded (after a restart, this rebuilds the
// ledger); a pod deleted, or finished, is forgotten.
func (pl *ResourceAware) podHandler() cache.ResourceEventHandlerFuncs {
	record := func(pod *v1.Pod) {
		if pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed {
			pl.ledger.remove(pod.UID)
			return
		}
		if pod.Spec.NodeName == "" {
			return
		}
		value, ok := pod.Annotations[pl.gpu.deviceAnnotation]
		if !ok {
			return
		}
		d, err := pl.gpu.demand(pod, pl.requests)
		if err != nil || d.none() {
			klog.V(4).InfoS("Pod's device annotation ignored: it asks for no GPU the plugin understands", "pod", klog.KObj(pod), "err", err)
			return
		}
		devs, err := gpushare.ParseDevices(pl.gpu.deviceAnnotation, value, gpushare.MaxDevices)
		if err != nil || (d.whole > 0 && int64(len(devs)) != d.whole) || (d.share > 0 && len(devs) != 1) {
			klog.V(2).InfoS("Pod's device annotation ignored: it does not match the pod's GPU request", "pod", klog.KObj(pod), "annotation", value, "err", err)
			return
		}
		pl.ledger.add(pod.UID, podDevices{node: pod.Spec.NodeName, devices: devs, milli: d.milliPerDevice()})
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if pod, ok := obj.(*v1.Pod); ok {
				pl.mix.observe(pl.gpu, pl.requests, pod)
				record(pod)
			}
		},
		UpdateFunc: func(_, obj any) {
			if pod, ok := obj.(*v1.Pod); ok {
				record(pod)
			}
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if pod, ok := obj.(*v1.Pod); ok {
				pl.ledger.remove(pod.UID)
			}
		},
	}
}
