package report

import (
	"fmt"
	"html/template"
	"math"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/stats"
)

// traceChart draws the FGD paper's figure for a trace replay: unallocated
// GPU against arrived workload, one line per profile. Each line is the
// median over the profile's runs (its seeds) at every whole percent
// arrived, so that one seed's luck does not draw the profile.
func traceChart(r *Report) (chart, bool) {
	var lines []series
	sharing := ""
	for _, runs := range r.Runs {
		if len(runs) == 0 || runs[0].Trace == nil {
			return chart{}, false
		}
		sharing = runs[0].Trace.GPUSharing
		s := series{name: runs[0].Profile}
		for level := 0.0; ; level++ {
			var at []float64
			for _, run := range runs {
				if v, ok := curveAt(run.Trace, level); ok {
					at = append(at, v)
				}
			}
			// A level not every run reached would draw a median of some.
			if len(at) < len(runs) {
				break
			}
			s.points = append(s.points, [2]float64{level, stats.MedianInterval(at, stats.Confidence).Median})
		}
		lines = append(lines, s)
	}
	n := 0
	if len(r.Runs) > 0 {
		n = len(r.Runs[0])
	}
	title := fmt.Sprintf("Unallocated GPU vs arrived workload (median of %d run(s); GPU sharing: %s)", n, sharing)
	return chart{Title: title, File: "trace-unallocated-gpu.svg",
		SVG: template.HTML(lineChart(title, "arrived workload, % of GPU capacity", "unallocated GPU, % of capacity", lines))}, true
}

// curveAt is the curve's value at the first point at or past level
// arrived.
func curveAt(t *result.TraceResult, level float64) (float64, bool) {
	for i, a := range t.ArrivedPercent {
		if a >= level && !math.IsNaN(t.UnallocatedPercent[i]) {
			return t.UnallocatedPercent[i], true
		}
	}
	return 0, false
}
