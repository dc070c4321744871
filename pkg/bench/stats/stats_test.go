package stats

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	// 1..10: p50 is the 5th value, p90 the 9th, p95 and p99 the 10th.
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for p, want := range map[float64]float64{50: 5, 90: 9, 95: 10, 99: 10, 10: 1, 11: 2, 100: 10} {
		if got := Percentile(s, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("empty: %v", got)
	}
	if got := Percentile([]float64{7}, 99); got != 7 {
		t.Errorf("one value: %v", got)
	}
}

func TestSummarize(t *testing.T) {
	got := Summarize([]float64{30, 10, 20, 40})
	want := Summary{Count: 4, Average: 25, Perc50: 20, Perc90: 40, Perc95: 40, Perc99: 40, Min: 10, Max: 40}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if (Summarize(nil) != Summary{}) {
		t.Error("empty input should give a zero summary")
	}
}

func TestThroughputSamples(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	sec := time.Second
	cases := []struct {
		name  string
		binds []time.Time
		end   time.Duration
		want  []float64
	}{
		// Ticks at 1s..5s. Binds: 2 before 1s (first tick sees them: skipped),
		// 3 in (1,2], 1 in (2,3], 4 in (3,4], none in (4,5].
		{"steady", at(100, 900, 1100, 1500, 1900, 2500, 3100, 3200, 3300, 3999), 5 * sec, []float64{3, 1, 4}},
		// Nothing bound until 2.5s: ticks 1s and 2s ignored, 3s skipped (first),
		// then 2 in (3,4].
		{"late start", at(2500, 2600, 3500, 3600), 4 * sec, []float64{2}},
		// A gap: after the first tick, (1,2] has 2, (2,3] none, (3,4] 4: the 4
		// are spread over 2s -> 2 pods/s, recorded twice.
		{"gap", at(500, 1200, 1800, 3100, 3200, 3300, 3400), 4 * sec, []float64{2, 2, 2}},
		{"all within the first second", at(100, 200), 3 * sec, nil},
		{"none", nil, 3 * sec, nil},
		// A bind exactly on a tick counts for that tick.
		{"bind on a tick", at(1000, 2000), 2 * sec, []float64{1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ThroughputSamples(t0, t0.Add(tc.end), sec, tc.binds)
			if len(got) != len(tc.want) {
				t.Fatalf("samples %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("samples %v, want %v", got, tc.want)
					break
				}
			}
		})
	}
}

func TestCDF(t *testing.T) {
	// Values 1..10: nearest rank of p is the ceil(10·p/100)-th value.
	var v []float64
	for i := 10; i >= 1; i-- {
		v = append(v, float64(i))
	}
	got := CDF(v, 4) // percentiles 0, 25, 50, 75, 100
	want := []float64{1, 3, 5, 8, 10}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("CDF = %v, want %v", got, want)
		}
	}
	if CDF(nil, 4) != nil {
		t.Error("CDF of nothing is not nil")
	}
}
