// Package state reads typed plugin state from a scheduling cycle.
package state

import (
	"fmt"

	fwk "k8s.io/kube-scheduler/framework"
)

// Read returns the value a plugin wrote under key in this cycle, with a
// clear error when it is missing or of another type.
func Read[T fwk.StateData](cycle fwk.CycleState, key fwk.StateKey) (T, error) {
	var zero T
	c, err := cycle.Read(key)
	if err != nil {
		return zero, fmt.Errorf("reading %q from cycle state: %w", key, err)
	}
	v, ok := c.(T)
	if !ok {
		return zero, fmt.Errorf("%q has type %T, want %T", key, c, zero)
	}
	return v, nil
}
