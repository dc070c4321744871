// Package trace reads workload traces (Alibaba's OpenB CSV files and
// Placer's neutral JSON Lines format, docs/traces.md) into one neutral
// form, draws the pods a replay offers (the FGD paper's protocol or the
// trace's own timeline), and computes the paper's metric: unallocated GPU
// against arrived workload. It imports nothing of Kubernetes, so that its
// readers can be fuzzed cheaply; pkg/bench/trace/replay runs a trace
// against a scheduler.
package trace

import (
	"fmt"
	"math"
)

// MilliPerGPU is one whole GPU in the trace's GPU accounting.
const MilliPerGPU = 1000

// Node is one machine of the trace.
type Node struct {
	Name      string `json:"name"`
	CPUMilli  int64  `json:"cpuMilli"`
	MemoryMiB int64  `json:"memoryMiB"`
	// GPUs is the number of whole GPUs; GPUModel their model (empty on a
	// node without GPUs).
	GPUs     int64             `json:"gpus"`
	GPUModel string            `json:"gpuModel,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// Pod is one task of the trace.
type Pod struct {
	Name string `json:"name"`
	// Owner groups pods of one job or workload; informational.
	Owner     string `json:"owner,omitempty"`
	CPUMilli  int64  `json:"cpuMilli"`
	MemoryMiB int64  `json:"memoryMiB"`
	// GPUs is how many GPUs the pod uses; GPUMilli the share of each it
	// takes (1000: whole GPUs; below 1000, with GPUs 1: a GPU-sharing pod).
	GPUs     int64 `json:"gpus"`
	GPUMilli int64 `json:"gpuMilli,omitempty"`
	// GPUModels are the models the pod accepts (empty: any).
	GPUModels    []string          `json:"gpuModels,omitempty"`
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Arrival and Departure are seconds from the trace's start; a pod
	// without Departure stays to the end.
	Arrival   float64  `json:"arrival"`
	Departure *float64 `json:"departure,omitempty"`
}

// GPURequestMilli is the GPU the pod asks for, in milli-GPU: what the FGD
// paper counts as arrived workload.
func (p *Pod) GPURequestMilli() int64 {
	if p.GPUs == 0 {
		return 0
	}
	if p.GPUs == 1 && p.GPUMilli > 0 && p.GPUMilli < MilliPerGPU {
		return p.GPUMilli
	}
	return p.GPUs * MilliPerGPU
}

// Sharing reports a pod that asks for part of one GPU.
func (p *Pod) Sharing() bool { return p.GPUs == 1 && p.GPUMilli > 0 && p.GPUMilli < MilliPerGPU }

// WholeGPUs is how many whole GPUs the pod takes when GPUs cannot be
// shared: a sharing pod takes one.
func (p *Pod) WholeGPUs() int64 { return p.GPUs }

// Shape names the pod's kind for the placed/failed counts: "cpu-only",
// "share" (part of one GPU), or "gpu-<n>".
func (p *Pod) Shape() string {
	switch {
	case p.GPUs == 0:
		return "cpu-only"
	case p.Sharing():
		return "share"
	}
	return fmt.Sprintf("gpu-%d", p.GPUs)
}

// Trace is a whole trace: its nodes and its pods in the order given.
type Trace struct {
	Name  string
	Nodes []Node
	Pods  []Pod
	// HasTimes: the pods carry arrival times (the timeline protocol needs
	// them).
	HasTimes bool
}

// GPUCapacityMilli is the cluster's GPU capacity in milli-GPU.
func (t *Trace) GPUCapacityMilli() int64 {
	var total int64
	for _, n := range t.Nodes {
		total += n.GPUs * MilliPerGPU
	}
	return total
}

// Limits on what a trace may ask, far above any real machine, so that a
// corrupt cell is refused instead of overflowing a sum or a quantity.
const (
	MaxCPUMilli  = 1 << 40
	MaxMemoryMiB = 1 << 40
	MaxGPUs      = 1024
	// MaxSeconds bounds arrival and departure times (about 3000 years).
	MaxSeconds = 1e11
	// MaxNodes and MaxPods bound a trace's size, so that a runaway file is
	// refused before it exhausts memory.
	MaxNodes = 1_000_000
	MaxPods  = 10_000_000
)

// validTime reports a finite time in [0, MaxSeconds].
func validTime(v float64) bool { return !math.IsNaN(v) && v >= 0 && v <= MaxSeconds }
