package resourceaware

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
)

// The fragmentation score (README.md, "Fragmentation"). For one state of
// a node (free cpu, free memory, its GPU model, the free milli-GPU of each
// device) and the mix of GPU pod shapes seen so far (shape m with
// probability p_m), the node's fragmentation F is the GPU, in milli-GPU,
// that the pods expected next could not use there:
//
//	F = Σ_m p_m · (once_m + many_m),   p_m ∝ n_m / d_m^mixWeightExponent
//
// once_m is the FGD paper's measure, what one pod of shape m leaves
// unusable: all free GPU when m does not fit (cpu, memory, model,
// devices); otherwise the free GPU of the devices m cannot use (those
// with less free than its share, or, for whole GPUs, those partly used).
// many_m is what stays unusable however many pods of shape m arrive: all
// free GPU minus k_m·g_m, where g_m is the GPU of one pod of m and k_m how
// many fit at once (by devices, cpu and memory). once_m sees devices
// split into unusable slivers; many_m sees GPUs stranded by the cpu and
// memory beside them, which one pod's fit does not.
//
// A pod goes where it raises F the least: ΔF = F(after) − F(before), with
// the device a share would take chosen the same way. n_m is how many pods
// of shape m were seen and d_m what one takes on each of its devices (its
// share, or a whole device).

// mixWindow is how many GPU pods the mix remembers at full weight: when
// the counts reach twice this, they are halved, so that the mix follows a
// workload that changes.
const mixWindow = 5000

// mixWeightExponent is the power of a shape's per-device GPU in its weight,
// chosen by replaying Alibaba's three OpenB pod lists: lower powers leave
// more GPU idle where many pods share GPUs, higher ones where many ask for
// eight (README.md, "Fragmentation").
const mixWeightExponent = 2.5

// maxMixShapes bounds the distinct shapes kept; mixTableSize how many of
// the most frequent the score uses.
const (
	maxMixShapes = 1024
	mixTableSize = 32
)

// shapeKey is a pod's shape as the fragmentation measure sees it.
type shapeKey struct {
	cpu, mem     int64
	whole, share int64
	models       string // '|'-joined, sorted; "" for any
}

// podMix counts the shapes of the GPU pods seen so far.
type podMix struct {
	mu     sync.Mutex
	counts map[shapeKey]float64
	total  float64
	dirty  atomic.Bool
	table  atomic.Pointer[mixTable]
}

func newPodMix() *podMix { return &podMix{counts: map[shapeKey]float64{}} }

// observe counts a pod that asks for a GPU.
func (m *podMix) observe(g *gpuSharing, reqs requestOptions, pod *v1.Pod) {
	if m == nil {
		return
	}
	d, err := g.demand(pod, reqs)
	if err != nil || d.none() {
		return
	}
	r := reqs.podRequests(pod, false)
	models := slices.Clone(d.models)
	slices.Sort(models)
	k := shapeKey{cpu: amount(r, v1.ResourceCPU), mem: amount(r, v1.ResourceMemory), whole: d.whole, share: d.share, models: strings.Join(models, "|")}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.counts[k]; !ok && len(m.counts) >= maxMixShapes {
		m.age()
		if len(m.counts) >= maxMixShapes {
			return
		}
	}
	m.counts[k]++
	m.total++
	if m.total >= 2*mixWindow {
		m.age()
	}
	m.dirty.Store(true)
}

// age halves every count and drops the shapes that fall below one half.
func (m *podMix) age() {
	m.total = 0
	for k, c := range m.counts {
		if c /= 2; c < 0.5 {
			delete(m.counts, k)
			continue
		}
		m.counts[k] = c
		m.total += c
	}
}

// mixShape is one shape of the table with its probability.
type mixShape struct {
	cpu, mem     int64
	whole, share int64
	models       []string
	p            float64
}

// mixTable is the most frequent shapes, probabilities summing to 1.
type mixTable struct {
	shapes []mixShape
}

// current returns the table of the mix as it is now; nil while no GPU pod
// has been seen.
func (m *podMix) current() *mixTable {
	if m == nil {
		return nil
	}
	if m.dirty.Load() {
		m.mu.Lock()
		if m.dirty.Swap(false) {
			m.table.Store(m.build())
		}
		m.mu.Unlock()
	}
	return m.table.Load()
}

func (m *podMix) build() *mixTable {
	keys := make([]shapeKey, 0, len(m.counts))
	for k := range m.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b shapeKey) int {
		if c := cmp.Compare(m.counts[b], m.counts[a]); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.share, b.share), cmp.Compare(a.whole, b.whole), cmp.Compare(a.cpu, b.cpu), cmp.Compare(a.mem, b.mem), strings.Compare(a.models, b.models))
	})
	keys = keys[:min(len(keys), mixTableSize)]
	if len(keys) == 0 {
		return nil
	}
	// Each shape counts by its pods over what one takes on each device (its
	// share, or a whole device) to the power mixWeightExponent. A multi-GPU
	// pod counts as one pod of whole devices: once_m and many_m already
	// count all the devices it cannot get, and weighing it by its total GPU
	// too left 8-GPU pods without a free node at the end (README.md). The
	// steep power on the share makes a sliver that would hold many small
	// pods weigh against a whole device kept for a large one.
	weight := func(k shapeKey) float64 {
		perDevice := gpuDemand{share: k.share, whole: k.whole}.milliPerDevice()
		return m.counts[k] / math.Pow(float64(perDevice), mixWeightExponent)
	}
	var sum float64
	for _, k := range keys {
		sum += weight(k)
	}
	t := &mixTable{}
	for _, k := range keys {
		s := mixShape{cpu: k.cpu, mem: k.mem, whole: k.whole, share: k.share, p: weight(k) / sum}
		if k.models != "" {
			s.models = strings.Split(k.models, "|")
		}
		t.shapes = append(t.shapes, s)
	}
	return t
}

// nodeFree is a node's free cpu (millicores) and memory (bytes) by requests.
type nodeFree struct{ cpu, mem int64 }

func (pl *ResourceAware) nodeFree(nodeInfo fwk.NodeInfo) nodeFree {
	alloc, req := nodeInfo.GetAllocatable(), nodeInfo.GetRequested()
	return nodeFree{cpu: alloc.GetMilliCPU() - req.GetMilliCPU(), mem: alloc.GetMemory() - req.GetMemory()}
}

// podShape is the incoming pod as the measure sees it.
type podShape struct {
	cpu, mem int64
	gpu      gpuDemand
}

func (pl *ResourceAware) podShape(pod *v1.Pod, d gpuDemand) podShape {
	r := pl.requests.podRequests(pod, false)
	return podShape{cpu: amount(r, v1.ResourceCPU), mem: amount(r, v1.ResourceMemory), gpu: d}
}

// fragmentation evaluates F for one state of a node.
func (t *mixTable) fragmentation(free nodeFree, model string, devs []int64) float64 {
	var sorted [len(devices{}.free)]int64
	n := copy(sorted[:], devs)
	s := sorted[:n]
	slices.Sort(s)
	var prefix [len(devices{}.free) + 1]int64
	var full int64
	for j, f := range s {
		prefix[j+1] = prefix[j] + f
		if f == milliPerDevice {
			full++
		}
	}
	total := prefix[n]
	if total == 0 {
		return 0
	}
	var frag float64
	for i := range t.shapes {
		m := &t.shapes[i]
		if len(m.models) > 0 && !slices.Contains(m.models, model) {
			frag += m.p * float64(2*total)
			continue
		}
		// k pods of m fit by devices, each taking per milli-GPU.
		var once, k, per int64
		if m.whole > 0 {
			k, per = full/m.whole, m.whole*milliPerDevice
			once = total - full*milliPerDevice
		} else {
			per = m.share
			idx, _ := slices.BinarySearch(s, m.share)
			once = prefix[idx]
			for _, f := range s[idx:] {
				k += f / m.share
			}
		}
		if m.cpu > 0 {
			k = min(k, max(free.cpu, 0)/m.cpu)
		}
		if m.mem > 0 {
			k = min(k, max(free.mem, 0)/m.mem)
		}
		if k == 0 {
			once = total
		}
		frag += m.p * float64(once+total-min(total, k*per))
	}
	return frag
}

// delta is ΔF of placing pod on the node, with the device a share would
// take there; ok false when the pod fits on no device.
func (t *mixTable) delta(free nodeFree, model string, v *devices, pod podShape) (float64, int, bool) {
	if v.n == 0 {
		return 0, -1, pod.gpu.none()
	}
	before := t.fragmentation(free, model, v.free[:v.n])
	after := nodeFree{cpu: free.cpu - pod.cpu, mem: free.mem - pod.mem}
	var devs [len(devices{}.free)]int64
	copy(devs[:], v.free[:v.n])
	switch {
	case pod.gpu.share > 0:
		best, bestJ := 0.0, -1
		for j, f := range v.free[:v.n] {
			if f < pod.gpu.share || (bestJ >= 0 && slices.Contains(v.free[:j], f)) {
				continue // too little, or a device just like one tried
			}
			devs[j] = f - pod.gpu.share
			d := t.fragmentation(after, model, devs[:v.n]) - before
			devs[j] = f
			// At equal fragmentation, the fullest device: best fit.
			if bestJ < 0 || d < best-1e-9 || (d < best+1e-9 && f < v.free[bestJ]) {
				best, bestJ = d, j
			}
		}
		return best, bestJ, bestJ >= 0
	case pod.gpu.whole > 0:
		taken := int64(0)
		for j, f := range devs[:v.n] {
			if f == milliPerDevice && taken < pod.gpu.whole {
				devs[j], taken = 0, taken+1
			}
		}
		if taken < pod.gpu.whole {
			return 0, -1, false
		}
	}
	return t.fragmentation(after, model, devs[:v.n]) - before, -1, true
}
