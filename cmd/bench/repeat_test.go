package main

import (
	"slices"
	"testing"
)

// Rounds run every profile once: in the given order, or with --shuffle in
// an order drawn from the seed — the same for the same seed.
func TestRunOrder(t *testing.T) {
	plain := runOrder(3, 4, false, 1)
	for _, round := range plain {
		if !slices.Equal(round, []int{0, 1, 2}) {
			t.Errorf("unshuffled round %v, want 0 1 2", round)
		}
	}
	shuffled := runOrder(3, 20, true, 7)
	differs := false
	for _, round := range shuffled {
		if !slices.Equal(slices.Sorted(slices.Values(round)), []int{0, 1, 2}) {
			t.Fatalf("round %v does not run each profile once", round)
		}
		differs = differs || !slices.Equal(round, []int{0, 1, 2})
	}
	if !differs {
		t.Errorf("20 shuffled rounds all in the given order")
	}
	if again := runOrder(3, 20, true, 7); !slices.EqualFunc(again, shuffled, slices.Equal) {
		t.Errorf("the same seed gave another order")
	}
}
