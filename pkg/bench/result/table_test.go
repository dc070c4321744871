package result

import (
	"regexp"
	"strings"
	"testing"
)

func TestPrintTableRatios(t *testing.T) {
	var b strings.Builder
	a := &Result{Profile: "default", Pods: 10}
	a.Throughput.Average = 100
	c := &Result{Profile: "placer", Pods: 10}
	c.Throughput.Average = 150
	PrintTable(&b, Compare([][]*Result{{a}, {c}}))
	if !strings.Contains(b.String(), "150.0 (1.50x)") || !strings.Contains(b.String(), "1 run per profile: no interval") {
		t.Errorf("table:\n%s", b.String())
	}
}

// With repeated runs every figure is a median with its interval, and each
// ratio says whether the runs show a difference.
func TestPrintTableIntervals(t *testing.T) {
	var a, c []*Result
	for i, v := range []float64{100, 104, 98, 101, 99, 103, 97} {
		ra := &Result{Profile: "default", Pods: 10, PeakHeap: 100 << 20}
		ra.Throughput.Average = v
		rc := &Result{Profile: "placer", Pods: 10, PeakHeap: uint64(100+i) << 20}
		rc.Throughput.Average = 1.5 * v
		a, c = append(a, ra), append(c, rc)
	}
	figures := Compare([][]*Result{a, c})
	var b strings.Builder
	PrintTable(&b, figures)
	table := b.String()
	for _, want := range []string{
		// 1.5x in every round: the runs of a round are paired, and the
		// rounds' own spread (±4%) cancels.
		`throughput avg \(pods/s\)\s+100\.0 ±4%\s+150\.0 ±4% \(1\.50x 1\.50–1\.50\)`,
		// Identical pod counts: a point interval at 1, no difference.
		`pods\s+10 ±0%\s+10 ±0% \(1\.00x 1\.00–1\.00 ~\)`,
		// Heap 100 MiB against 100–106 MiB: within the runs' spread.
		`peak heap \(MiB\)\s+100 ±0%\s+103 ±3% \(1\.03x 1\.00–1\.06 ~\)`,
		`Medians of 7 runs per profile`,
		`Ratios to the first profile: median of the ratios of runs in the same round`,
	} {
		if !regexp.MustCompile(want).MatchString(table) {
			t.Errorf("table lacks %s:\n%s", want, table)
		}
	}
	for _, f := range figures {
		if f.Name == "throughput avg (pods/s)" {
			r := f.Profiles[1].RatioToFirst
			if r == nil || !r.Differs || r.Confidence < 0.95 {
				t.Errorf("throughput ratio %+v: want a difference at 95%% or more", r)
			}
		}
	}
}
