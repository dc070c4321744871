package resourceaware

import (
	"math"

	"github.com/placer-dev/placer/pkg/apis/config"
	"github.com/placer-dev/placer/pkg/placemath"
)

// fitScorer scores the fit of the pod's whole request vector to the node's
// free vector, over the configured resources the node has.
type fitScorer struct {
	strategy config.FitStrategy
	weight   int64
}

// score returns the fit in [0, MaxNodeScore], and false when it does not
// apply (the node has none of the resources, or the pod asks for none).
// allocs and requested are the node's figures per configured resource;
// pod is the pod's request per configured resource.
func (f *fitScorer) score(allocs, requested, pod []int64) (float64, bool) {
	if f.strategy == config.Alignment {
		return alignment(allocs, requested, pod)
	}
	return leastStranded(allocs, requested, pod)
}

// leastStranded is MaxNodeScore · (1 − stranded fraction after placement):
// the node on which the pod leaves the free fractions most even wins.
func leastStranded(allocs, requested, pod []int64) (float64, bool) {
	var buf [maxInlineResources]float64
	free := buf[:0]
	for i, a := range allocs {
		if a > 0 {
			free = append(free, placemath.FreeFraction(a, addSaturating(requested[i], pod[i])))
		}
	}
	if len(free) == 0 {
		return 0, false
	}
	return (1 - placemath.Spread(free)) * maxScore, true
}

// alignment is MaxNodeScore · cos(d, φ), with d_r the pod's request and φ_r
// the node's free amount of r, both as fractions of the node's allocatable:
// a memory-heavy pod goes where memory is relatively plentiful.
func alignment(allocs, requested, pod []int64) (float64, bool) {
	var dot, dd, ff float64
	for i, a := range allocs {
		if a <= 0 {
			continue
		}
		d := placemath.Utilization(pod[i], a)
		f := placemath.FreeFraction(a, requested[i])
		dot += d * f
		dd += d * d
		ff += f * f
	}
	if dd == 0 {
		return 0, false
	}
	if ff == 0 {
		return 0, true // nothing free: the worst fit there is
	}
	return dot / math.Sqrt(dd*ff) * maxScore, true
}
