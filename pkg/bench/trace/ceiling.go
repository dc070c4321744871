package trace

import (
	"fmt"

	"github.com/placer-dev/placer/pkg/bench/limits"
)

// A replay makes the trace's nodes and the pods it offers as Kubernetes
// objects; they are checked against the object ceiling (--max-objects,
// docs/workloads.md) before anything runs. The readers' own MaxNodes and
// MaxPods bound the file; these bound the run, which costs far more memory
// per record.

// CheckNodes refuses a trace with more nodes than ceiling.
func CheckNodes(t *Trace, ceiling int) error {
	if n := len(t.Nodes); n > ceiling {
		return fmt.Errorf("trace %s: %d nodes, more than the ceiling of %d objects; if that is meant and the machine has the memory (about %d KiB an object), raise it with %s",
			t.Name, n, ceiling, limits.BytesPerObject>>10, limits.Flag)
	}
	return nil
}

// CheckFGD refuses an FGD replay whose draw for any of seeds, with the
// trace's nodes, passes ceiling. It counts each draw without keeping it and
// stops at the ceiling, so that a target only billions of tiny GPU requests
// reach is refused in bounded time and memory.
func CheckFGD(t *Trace, seeds []int64, targetPercent float64, ceiling int) error {
	if err := CheckNodes(t, ceiling); err != nil {
		return err
	}
	target, err := fgdTarget(t, targetPercent)
	if err != nil {
		return err
	}
	room := ceiling - len(t.Nodes)
	for _, seed := range seeds {
		drawn := 0
		fgdDraw(t, fgdRand(seed), target, func(Pod) bool {
			drawn++
			return drawn <= room
		})
		if drawn > room {
			return fmt.Errorf("trace %s: --target %g with seed %d draws more than %d pods, which with the trace's %d nodes is more than the ceiling of %d objects; "+
				"lower --target or, if that is meant and the machine has the memory (about %d KiB an object), raise the ceiling with %s",
				t.Name, targetPercent, seed, room, len(t.Nodes), ceiling, limits.BytesPerObject>>10, limits.Flag)
		}
	}
	return nil
}

// CheckTimeline refuses a timeline replay whose nodes and the most pods
// present at once pass ceiling; events are Timeline's.
func CheckTimeline(t *Trace, events []Event, ceiling int) error {
	if err := CheckNodes(t, ceiling); err != nil {
		return err
	}
	present, peak, at := 0, 0, 0.0
	for _, e := range events {
		if e.Arrive {
			present++
		} else {
			present--
		}
		if present > peak {
			peak, at = present, e.At
		}
	}
	if n := len(t.Nodes) + peak; n > ceiling {
		return fmt.Errorf("trace %s: %d pods present at once (%gs into the replay) and %d nodes, %d objects, more than the ceiling of %d; "+
			"if that is meant and the machine has the memory (about %d KiB an object), raise it with %s",
			t.Name, peak, at, len(t.Nodes), n, ceiling, limits.BytesPerObject>>10, limits.Flag)
	}
	return nil
}
