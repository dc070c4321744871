// Package placemath is the arithmetic of placements that the plugins, the
// harness's quality figures and the test kit share, so that each idea has
// one definition: utilisation, stranded capacity, skew over domains, and
// quorum.
package placemath

import (
	"math"

	v1 "k8s.io/api/core/v1"
)

// Stranded capacity, as ResourceAware and the benchmark harness define it.
//
// On a node, for each considered resource r with allocatable A_r > 0 and
// requested Q_r, the free fraction is
//
//	φ_r = max(0, A_r − Q_r) / A_r
//
// and the node's usable free fraction is the smallest of them, m = min_r φ_r:
// a pod shaped like the node (asking for the same fraction of every
// resource) can use at most m of each before one resource runs out. What is
// free beyond that is stranded:
//
//	stranded_r = (φ_r − m) · A_r
//
// A node with memory full and half its cpu idle strands half its cpu; a node
// whose resources are equally used strands nothing, however full or empty.
// The node's stranded fraction is max_r φ_r − m, in [0, 1].

// Stranded returns, for each of names the node has (allocatable > 0), the
// amount that is free but stranded, in the units of the maps (millicores for
// cpu if the maps use them). Resources the node lacks are left out, so that a
// node without GPUs does not count as stranding GPUs.
func Stranded(allocatable, requested map[v1.ResourceName]int64, names []v1.ResourceName) map[v1.ResourceName]int64 {
	free := make([]float64, 0, len(names))
	have := make([]v1.ResourceName, 0, len(names))
	for _, n := range names {
		if a := allocatable[n]; a > 0 {
			have = append(have, n)
			free = append(free, FreeFraction(a, requested[n]))
		}
	}
	out := make(map[v1.ResourceName]int64, len(have))
	if len(have) == 0 {
		return out
	}
	m := minOf(free)
	for i, n := range have {
		out[n] = int64(math.Round((free[i] - m) * float64(allocatable[n])))
	}
	return out
}

// StrandedFraction is max_r φ_r − min_r φ_r over names the node has: 0 when
// nothing is stranded, 1 when one resource is exhausted and another untouched.
func StrandedFraction(allocatable, requested map[v1.ResourceName]int64, names []v1.ResourceName) float64 {
	free := make([]float64, 0, len(names))
	for _, n := range names {
		if a := allocatable[n]; a > 0 {
			free = append(free, FreeFraction(a, requested[n]))
		}
	}
	return Spread(free)
}

// FreeFraction is φ = max(0, A − Q)/A for A > 0.
func FreeFraction(alloc, requested int64) float64 {
	return 1 - Utilization(requested, alloc)
}

// Utilization is requested/allocatable clamped to [0, 1]. It is computed in
// floating point so that no product of two large int64 amounts (bytes of
// memory times a score) can overflow.
func Utilization(requested, allocatable int64) float64 {
	if allocatable <= 0 || requested >= allocatable {
		return 1
	}
	if requested <= 0 {
		return 0
	}
	return float64(requested) / float64(allocatable)
}

func minOf(xs []float64) float64 {
	m := math.Inf(1)
	for _, x := range xs {
		m = math.Min(m, x)
	}
	return m
}

// Spread is max − min, 0 for fewer than two values.
func Spread(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs[1:] {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return hi - lo
}
