package resourceaware

import (
	"k8s.io/kubernetes/pkg/scheduler/framework"

	"github.com/placer-dev/placer/pkg/apis/config"
)

// scoreFunc maps utilisation in [0, 1] to a score in [0, MaxNodeScore].
type scoreFunc func(util float64) float64

func leastAllocated(util float64) float64 { return (1 - util) * maxScore }

func mostAllocated(util float64) float64 { return util * maxScore }

const maxScore = float64(framework.MaxNodeScore)

// shapeFunc interpolates linearly between the points of a
// RequestedToCapacityRatio shape (validated: utilisations strictly
// increasing), holding the end scores flat beyond the first and last points.
// Shape scores run 0..10 and are scaled to the node score range.
func shapeFunc(shape []config.UtilizationShapePoint) scoreFunc {
	const scale = maxScore / config.MaxShapeScore
	pts := append([]config.UtilizationShapePoint(nil), shape...)
	return func(util float64) float64 {
		u := util * 100
		if u <= float64(pts[0].Utilization) {
			return float64(pts[0].Score) * scale
		}
		for i := 1; i < len(pts); i++ {
			lo, hi := pts[i-1], pts[i]
			if u <= float64(hi.Utilization) {
				frac := (u - float64(lo.Utilization)) / float64(hi.Utilization-lo.Utilization)
				return (float64(lo.Score) + frac*float64(hi.Score-lo.Score)) * scale
			}
		}
		return float64(pts[len(pts)-1].Score) * scale
	}
}

func strategyFunc(r config.ResourcePolicy) scoreFunc {
	switch r.Strategy {
	case config.MostAllocated:
		return mostAllocated
	case config.RequestedToCapacityRatio:
		return shapeFunc(r.Shape)
	default: // LeastAllocated; validation admits nothing else
		return leastAllocated
	}
}
