package integration

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// Waits below guard against hangs, not speed: they are long enough that
// hitting one means something is broken, on any machine.
const hangGuard = 3 * time.Minute

// pollInterval is how often a wait looks again: short beside the seconds a
// scheduler or controller takes, long enough not to load the API server.
const pollInterval = 100 * time.Millisecond

// poll calls cond every pollInterval until it returns true or an error, or
// until hangGuard has passed. cond swallows the errors worth retrying (an
// API server that refuses while it starts) and returns those that mean the
// wait can no longer succeed.
func poll(ctx context.Context, cond wait.ConditionWithContextFunc) error {
	return wait.PollUntilContextTimeout(ctx, pollInterval, hangGuard, true, cond)
}
