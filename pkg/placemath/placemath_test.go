package placemath

import (
	"math"
	"testing"

	v1 "k8s.io/api/core/v1"
)

const gpu v1.ResourceName = "nvidia.com/gpu"

func TestStranded(t *testing.T) {
	names := []v1.ResourceName{"cpu", "memory", gpu}
	cases := []struct {
		name         string
		alloc, req   map[v1.ResourceName]int64
		want         map[v1.ResourceName]int64
		wantFraction float64
	}{
		{"memory full, half the cpu idle: half the cpu stranded",
			map[v1.ResourceName]int64{"cpu": 8000, "memory": 16}, map[v1.ResourceName]int64{"cpu": 4000, "memory": 16},
			map[v1.ResourceName]int64{"cpu": 4000, "memory": 0}, 0.5},
		{"evenly used: nothing stranded",
			map[v1.ResourceName]int64{"cpu": 8000, "memory": 16}, map[v1.ResourceName]int64{"cpu": 2000, "memory": 4},
			map[v1.ResourceName]int64{"cpu": 0, "memory": 0}, 0},
		{"empty node: nothing stranded",
			map[v1.ResourceName]int64{"cpu": 8000, "memory": 16}, nil,
			map[v1.ResourceName]int64{"cpu": 0, "memory": 0}, 0},
		// free: cpu 0.75, memory 0.25, gpu 1 -> min 0.25.
		{"GPUs idle on a busy node are stranded",
			map[v1.ResourceName]int64{"cpu": 8000, "memory": 16, gpu: 4}, map[v1.ResourceName]int64{"cpu": 2000, "memory": 12},
			map[v1.ResourceName]int64{"cpu": 4000, "memory": 0, gpu: 3}, 0.75},
		{"over-requested counts as nothing free",
			map[v1.ResourceName]int64{"cpu": 8000, "memory": 16}, map[v1.ResourceName]int64{"cpu": 9000, "memory": 8},
			map[v1.ResourceName]int64{"cpu": 0, "memory": 8}, 0.5},
		{"resources the node lacks are left out",
			map[v1.ResourceName]int64{"cpu": 8000}, map[v1.ResourceName]int64{"cpu": 8000},
			map[v1.ResourceName]int64{"cpu": 0}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Stranded(tc.alloc, tc.req, names)
			if len(got) != len(tc.want) {
				t.Fatalf("Stranded = %v, want %v", got, tc.want)
			}
			for n, w := range tc.want {
				if got[n] != w {
					t.Errorf("Stranded[%s] = %d, want %d", n, got[n], w)
				}
			}
			if f := StrandedFraction(tc.alloc, tc.req, names); math.Abs(f-tc.wantFraction) > 1e-9 {
				t.Errorf("StrandedFraction = %v, want %v", f, tc.wantFraction)
			}
		})
	}
}

func TestSkewAndQuorum(t *testing.T) {
	for _, tc := range []struct {
		counts  map[string]int
		domains int
		want    int
	}{
		{map[string]int{"a": 3, "b": 1}, 3, 3}, // zone c holds none
		{map[string]int{"a": 3, "b": 1}, 2, 2},
		{map[string]int{"a": 3, "b": 1}, 0, 2}, // only the listed
		{nil, 3, 0},
		{map[string]int{"a": 2, "b": 2, "c": 2}, 3, 0},
	} {
		if got := Skew(tc.counts, tc.domains); got != tc.want {
			t.Errorf("Skew(%v, %d) = %d, want %d", tc.counts, tc.domains, got, tc.want)
		}
	}
	// Five replicas need three zones: two zones can hold at most 2+2.
	for r, want := range map[int][3]int{1: {1, 0, 0}, 2: {2, 0, 0}, 3: {2, 1, 3}, 4: {3, 1, 4}, 5: {3, 2, 3}, 7: {4, 3, 3}} {
		if got := [3]int{Quorum(r), AllowedPerDomain(r), DomainsNeeded(r)}; got != want {
			t.Errorf("R=%d: quorum, allowed per domain, domains needed = %v, want %v", r, got, want)
		}
	}
}
