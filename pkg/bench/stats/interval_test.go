package stats

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestMedianIntervalOrderStatistics(t *testing.T) {
	for _, tc := range []struct {
		name       string
		values     []float64
		want       Interval
		confidence float64
	}{
		{"one run: no interval", []float64{5}, Interval{N: 1, Median: 5, Lo: 5, Hi: 5}, 0},
		// Three runs: the range, which holds the median 1 − 2·(1/2)³ = 75% of the time.
		{"three runs: the range", []float64{3, 1, 2}, Interval{N: 3, Median: 2, Lo: 1, Hi: 3}, 0.75},
		{"even count: mean of the middle two", []float64{4, 1, 3, 2}, Interval{N: 4, Median: 2.5, Lo: 1, Hi: 4}, 0.875},
		// Six runs: the range reaches 95% (96.875%); the next interval in does not.
		{"six runs", []float64{6, 5, 4, 3, 2, 1}, Interval{N: 6, Median: 3.5, Lo: 1, Hi: 6}, 1 - 2.0/64},
		// Ten runs: [x(2), x(9)] covers 1 − 2·11/1024 = 97.85%; [x(3), x(8)] only 89%.
		{"ten runs", []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, Interval{N: 10, Median: 5.5, Lo: 2, Hi: 9}, 1 - 22.0/1024},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MedianInterval(tc.values, Confidence)
			if got.N != tc.want.N || got.Median != tc.want.Median || got.Lo != tc.want.Lo || got.Hi != tc.want.Hi {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if math.Abs(got.Confidence-tc.confidence) > 1e-9 {
				t.Errorf("confidence %v, want %v", got.Confidence, tc.confidence)
			}
		})
	}
	if (MedianInterval(nil, Confidence) != Interval{}) {
		t.Errorf("no values should give the zero interval")
	}
	if got := RunsFor(Confidence); got != 6 {
		t.Errorf("RunsFor(0.95) = %d, want 6", got)
	}
}

func TestRatioOf(t *testing.T) {
	same := []float64{100, 104, 98, 101, 99, 103, 97}
	r, ok := RatioOf(same, []float64{99, 102, 100, 98, 105, 97, 101}, Confidence)
	if !ok || r.Differs || r.Lo > 1 || r.Hi < 1 {
		t.Errorf("A/A: %+v, want an interval around 1", r)
	}
	// Seven runs a side: each range covers 1 − 2/128 ≥ √0.95, so the
	// ratio's interval reaches 95%.
	if r.Confidence < Confidence {
		t.Errorf("confidence %v at 7 runs a side, want at least %v", r.Confidence, Confidence)
	}
	faster := []float64{150, 152, 149, 151, 148, 153, 150}
	r, _ = RatioOf(same, faster, Confidence)
	if !r.Differs || math.Abs(r.Ratio-1.5) > 0.01 || r.Lo < 1.4 || r.Hi > 1.6 {
		t.Errorf("1.5x: %+v", r)
	}
	// One run a side: a ratio, no interval, no verdict.
	r, _ = RatioOf([]float64{2}, []float64{3}, Confidence)
	if r.HasInterval() || r.Differs || r.Ratio != 1.5 {
		t.Errorf("single runs: %+v", r)
	}
	if _, ok := RatioOf([]float64{0, 0}, []float64{1, 2}, Confidence); ok {
		t.Errorf("a zero baseline has no ratio")
	}
	// A baseline interval reaching 0 leaves the ratio unbounded above,
	// which report.json writes as null and reads back.
	r, _ = RatioOf([]float64{0, 1, 2}, []float64{1, 2, 3}, Confidence)
	if !math.IsInf(r.Hi, 1) {
		t.Fatalf("hi = %v, want +Inf", r.Hi)
	}
	data, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(data), `"hi":null`) {
		t.Fatalf("marshal: %s, %v", data, err)
	}
	var back Ratio
	if err := json.Unmarshal(data, &back); err != nil || !math.IsInf(back.Hi, 1) || back.Ratio != r.Ratio {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

// Rounds that slow both profiles alike cancel in paired ratios; the ratio
// of medians cannot tell them from the profiles' own spread.
func TestPairedRatioOfCancelsSlowRounds(t *testing.T) {
	a := []float64{500, 520, 340, 430, 350, 410, 440}
	b := make([]float64, len(a))
	for i, v := range a {
		b[i] = v * (1.10 + 0.01*float64(i%3)) // 10-12% faster in every round
	}
	p, ok := PairedRatioOf(a, b, Confidence)
	if !ok || !p.Paired || !p.Differs || p.Lo < 1.09 || p.Hi > 1.13 || p.Confidence < Confidence {
		t.Errorf("paired: %+v, want 1.10-1.12 at 95%%", p)
	}
	if u, _ := RatioOf(a, b, Confidence); u.Differs {
		t.Errorf("unpaired: %+v; the slow rounds should hide the difference", u)
	}
	if _, ok := PairedRatioOf(a, b[:6], Confidence); ok {
		t.Errorf("a missing round pairs nothing")
	}
	if _, ok := PairedRatioOf([]float64{0, 1}, []float64{1, 1}, Confidence); ok {
		t.Errorf("a baseline run of 0 has no ratio")
	}
	one, _ := PairedRatioOf([]float64{2}, []float64{3}, Confidence)
	if one.HasInterval() || one.Differs || one.Ratio != 1.5 {
		t.Errorf("one round: %+v", one)
	}
	data, _ := json.Marshal(p)
	var back Ratio
	if err := json.Unmarshal(data, &back); err != nil || !back.Paired {
		t.Errorf("round trip lost paired: %s", data)
	}
}
