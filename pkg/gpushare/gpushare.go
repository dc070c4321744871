// Package gpushare is the contract between a pod that shares a GPU, the
// ResourceAware plugin that picks the device, and a device plugin that
// honours the pick: the annotation keys and how their values are written
// and read. It imports nothing of Kubernetes, so that the harness, the
// plugin and a device plugin's author read the same definitions.
package gpushare

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Defaults of the keys; each is configurable in ResourceAwareArgs.gpuSharing.
const (
	// ShareAnnotation on a pod asks for a share of one GPU device, in
	// thousandths of a device (1 to 999), instead of an nvidia.com/gpu
	// request.
	ShareAnnotation = "placer.dev/gpu-milli"
	// DeviceAnnotation is written by the scheduler before binding: the
	// indices of the devices the pod was given, comma-separated ("3", or
	// "0,1" for a pod asking for two whole GPUs).
	DeviceAnnotation = "placer.dev/gpu-device"
	// ModelsAnnotation on a pod lists the GPU models it accepts,
	// '|'-separated ("V100M16|V100M32"), matched against ModelLabel.
	ModelsAnnotation = "placer.dev/gpu-models"
	// ModelLabel carries a node's GPU model: the key NVIDIA's GPU feature
	// discovery writes.
	ModelLabel = "nvidia.com/gpu.product"
	// Resource is the extended resource whose allocatable is a node's
	// number of devices.
	Resource = "nvidia.com/gpu"
)

// MilliPerDevice is one whole device.
const MilliPerDevice = 1000

// MaxDevices bounds a node's device count as the plugin accounts it: a
// node advertising more is accounted as having this many (no machine
// comes near).
const MaxDevices = 64

// ParseShare reads a share annotation's value: an integer from 1 to
// MilliPerDevice-1. The error names the key, the value and the range.
func ParseShare(key, value string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
	if err != nil || v < 1 || v >= MilliPerDevice {
		return 0, fmt.Errorf("annotation %s=%q: want a share of one GPU in thousandths, 1 to %d (a whole GPU is asked for with an %s request)",
			key, value, MilliPerDevice-1, Resource)
	}
	return v, nil
}

// FormatDevices writes device indices as the device annotation holds them.
func FormatDevices(devices []int) string {
	parts := make([]string, len(devices))
	for i, d := range devices {
		parts[i] = strconv.Itoa(d)
	}
	return strings.Join(parts, ",")
}

// ParseDevices reads a device annotation's value: distinct indices from 0
// to count-1, comma-separated. The error names the key, the value and the
// range.
func ParseDevices(key, value string, count int) ([]int, error) {
	var out []int
	for _, part := range strings.Split(value, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || d < 0 || d >= count || slices.Contains(out, d) {
			return nil, fmt.Errorf("annotation %s=%q: want distinct device indices 0 to %d, comma-separated", key, value, count-1)
		}
		out = append(out, d)
	}
	return out, nil
}

// ParseModels reads a models annotation's value: model names separated by
// '|', none empty.
func ParseModels(key, value string) ([]string, error) {
	var out []string
	for _, m := range strings.Split(value, "|") {
		m = strings.TrimSpace(m)
		if m == "" {
			return nil, fmt.Errorf("annotation %s=%q: want GPU model names separated by '|', none empty", key, value)
		}
		out = append(out, m)
	}
	return out, nil
}
