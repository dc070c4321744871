package stats

import (
	"encoding/json"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the level the harness's intervals aim for.
const Confidence = 0.95

// Interval is the median of repeated measurements of one figure with a
// distribution-free confidence interval: the order statistics
// [x(k), x(n+1-k)] for the largest k whose coverage, from the binomial
// distribution of how many runs fall below the true median, reaches the
// level asked for. benchstat computes its ± the same way. With too few runs
// for the level the interval is the range, and Confidence says what the
// range covers; with one run there is no interval (Confidence 0).
type Interval struct {
	N          int     `json:"n"`
	Median     float64 `json:"median"`
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	Confidence float64 `json:"confidence"`
}

// MedianInterval summarises values at the given confidence level.
func MedianInterval(values []float64, level float64) Interval {
	n := len(values)
	if n == 0 {
		return Interval{}
	}
	s := slices.Sorted(slices.Values(values)) // a copy: values stay as given
	iv := Interval{N: n, Median: median(s), Lo: s[0], Hi: s[n-1]}
	if n == 1 {
		return iv
	}
	// k counts from 1: the interval [s[k-1], s[n-k]] misses the median
	// when fewer than k runs fall on one side of it.
	below := distuv.Binomial{N: float64(n), P: 0.5}
	iv.Confidence = coverage(below, 1)
	for k := 2; k <= n/2; k++ {
		c := coverage(below, k)
		if c < level {
			break
		}
		iv.Lo, iv.Hi, iv.Confidence = s[k-1], s[n-k], c
	}
	return iv
}

// coverage is the probability that [x(k), x(n+1-k)] holds the median.
func coverage(b distuv.Binomial, k int) float64 {
	return 1 - 2*b.CDF(float64(k-1))
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// HasInterval reports whether there was more than one run.
func (iv Interval) HasInterval() bool { return iv.N > 1 }

// Ratio compares a figure of one profile (b) with the baseline's (a): the
// ratio of their medians and an interval for it.
type Ratio struct {
	Ratio float64 `json:"ratio"`
	Lo    float64 `json:"lo"`
	// Hi is +Inf when the baseline's interval reaches 0; report.json writes
	// it as null.
	Hi         float64 `json:"hi"`
	Confidence float64 `json:"confidence"`
	// Differs is set when the interval excludes 1: a difference the runs
	// show. benchstat prints "~" where it is not.
	Differs bool `json:"differs"`
	// Paired is set when the ratio is the median of per-round ratios
	// (PairedRatioOf), unset for the ratio of two medians (RatioOf).
	Paired bool `json:"paired,omitempty"`
}

// RatioOf is b's median over a's, or ok false when a's median is 0. The
// interval divides the two medians' intervals, each taken at the square
// root of level: both hold their medians with probability at least their
// product, and then the interval holds the ratio. The runs of the two
// profiles are independent (separate processes), which the product needs.
// Below 7 runs a side the intervals are the ranges, and Confidence says
// what they cover together; with one run a side there is no interval.
func RatioOf(a, b []float64, level float64) (r Ratio, ok bool) {
	side := math.Sqrt(level)
	ia, ib := MedianInterval(a, side), MedianInterval(b, side)
	if ia.N == 0 || ib.N == 0 || ia.Median == 0 {
		return Ratio{}, false
	}
	r.Ratio = ib.Median / ia.Median
	r.Lo, r.Hi = r.Ratio, r.Ratio
	if !ia.HasInterval() || !ib.HasInterval() {
		return r, true
	}
	r.Confidence = ia.Confidence * ib.Confidence
	r.Lo = ib.Lo / ia.Hi
	r.Hi = math.Inf(1)
	if ia.Lo > 0 {
		r.Hi = ib.Hi / ia.Lo
	}
	r.Differs = r.Lo > 1 || r.Hi < 1
	return r, true
}

// PairedRatioOf compares b with a round by round: a[i] and b[i] ran in the
// same round, one after the other, so whatever slows the machine for a
// while slows both, and their ratio cancels it. The ratio is the median of
// the per-round ratios b[i]/a[i], with that median's interval
// (MedianInterval): the rounds are independent of each other, which is all
// the interval needs. ok is false without the same number of runs a side or
// with a baseline run of 0 (RatioOf then applies).
func PairedRatioOf(a, b []float64, level float64) (r Ratio, ok bool) {
	if len(a) == 0 || len(a) != len(b) {
		return Ratio{}, false
	}
	ratios := make([]float64, len(a))
	for i := range a {
		if a[i] == 0 {
			return Ratio{}, false
		}
		ratios[i] = b[i] / a[i]
	}
	iv := MedianInterval(ratios, level)
	r = Ratio{Ratio: iv.Median, Lo: iv.Median, Hi: iv.Median, Paired: true}
	if iv.HasInterval() {
		r.Lo, r.Hi, r.Confidence = iv.Lo, iv.Hi, iv.Confidence
		r.Differs = r.Lo > 1 || r.Hi < 1
	}
	return r, true
}

// HasInterval reports whether both sides had more than one run.
func (r Ratio) HasInterval() bool { return r.Confidence > 0 }

// RunsFor returns the fewest runs whose range or narrower interval reaches
// level: 6 for 95%, since the range of n runs misses the median with
// probability 2·0.5^n.
func RunsFor(level float64) int {
	n := 2
	for 1-2*math.Pow(0.5, float64(n)) < level {
		n++
	}
	return n
}

// ratioJSON is Ratio as report.json carries it: an unbounded hi is null,
// since JSON has no infinity.
type ratioJSON struct {
	Ratio      float64  `json:"ratio"`
	Lo         float64  `json:"lo"`
	Hi         *float64 `json:"hi"`
	Confidence float64  `json:"confidence"`
	Differs    bool     `json:"differs"`
	Paired     bool     `json:"paired,omitempty"`
}

// MarshalJSON writes an unbounded Hi as null.
func (r Ratio) MarshalJSON() ([]byte, error) {
	out := ratioJSON{Ratio: r.Ratio, Lo: r.Lo, Confidence: r.Confidence, Differs: r.Differs, Paired: r.Paired}
	if !math.IsInf(r.Hi, 1) {
		out.Hi = &r.Hi
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a null Hi as unbounded.
func (r *Ratio) UnmarshalJSON(data []byte) error {
	var in ratioJSON
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	*r = Ratio{Ratio: in.Ratio, Lo: in.Lo, Hi: math.Inf(1), Confidence: in.Confidence, Differs: in.Differs, Paired: in.Paired}
	if in.Hi != nil {
		r.Hi = *in.Hi
	}
	return nil
}
