package report

import (
	"strings"
	"testing"

	"github.com/placer-dev/placer/pkg/bench/result"
)

func traceRun(profile string, unallocated ...float64) *result.Result {
	tr := &result.TraceResult{GPUSharing: "whole", GPUCapacityMilli: 1000}
	for i, u := range unallocated {
		tr.ArrivedPercent = append(tr.ArrivedPercent, float64(i))
		tr.UnallocatedPercent = append(tr.UnallocatedPercent, u)
	}
	return &result.Result{Profile: profile, Trace: tr}
}

// The chart draws each profile's median over its runs at each percent
// arrived, up to the last level every run reached.
func TestTraceChart(t *testing.T) {
	r := &Report{Runs: [][]*result.Result{
		{traceRun("default", 100, 90, 80), traceRun("default", 100, 70, 60, 50), traceRun("default", 100, 80, 40)},
		{traceRun("placer", 100, 99, 98), traceRun("placer", 100, 97, 96), traceRun("placer", 100, 95, 94)},
	}}
	c, ok := traceChart(r)
	if !ok {
		t.Fatal("no chart for a trace report")
	}
	svg := string(c.SVG)
	if n := strings.Count(svg, "<polyline"); n != 2 {
		t.Errorf("%d lines, want one per profile", n)
	}
	if !strings.Contains(c.Title, "median of 3 run(s); GPU sharing: whole") {
		t.Errorf("title %q", c.Title)
	}
	if _, ok := traceChart(&Report{Runs: [][]*result.Result{{{Profile: "x"}}}}); ok {
		t.Error("a chart for a report without a trace")
	}
	if v, ok := curveAt(r.Runs[0][1].Trace, 2.5); !ok || v != 50 {
		t.Errorf("curveAt 2.5%%: %v %v, want the first point past it", v, ok)
	}
}
