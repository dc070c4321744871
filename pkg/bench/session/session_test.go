package session

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Rounds run every profile once: in the given order, or with --shuffle in
// an order drawn from the seed — the same for the same seed.
func TestRunOrder(t *testing.T) {
	plain := RunOrder(3, 4, false, 1)
	for _, round := range plain {
		if !slices.Equal(round, []int{0, 1, 2}) {
			t.Errorf("unshuffled round %v, want 0 1 2", round)
		}
	}
	shuffled := RunOrder(3, 20, true, 7)
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
	if again := RunOrder(3, 20, true, 7); !slices.EqualFunc(again, shuffled, slices.Equal) {
		t.Errorf("the same seed gave another order")
	}
}

// Run IDs differ even for runs of one workload started in the same second,
// and stay valid label values however long the workload's name.
func TestNewRunID(t *testing.T) {
	at := time.Unix(1796555327, 0)
	seen := map[string]bool{}
	for range 50 {
		id := NewRunID("basic", at)
		if !regexp.MustCompile(`^basic-1796555327-[0-9a-f]{6}$`).MatchString(id) || seen[id] {
			t.Fatalf("run ID %q: want basic-<unix>-<6 hex>, unique", id)
		}
		seen[id] = true
	}
	long := NewRunID("SchedulingBasic/5000Nodes_10000Pods_with_a_very_long_workload_name", at)
	if errs := validation.IsValidLabelValue(long); len(errs) != 0 || strings.Contains(long, "/") {
		t.Errorf("run ID %q is not a label value: %v", long, errs)
	}
}
