package sim

import (
	"context"
	"fmt"
	"slices"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// CreateNode registers a synthetic node as a kubelet does: the object, then
// its status (capacity, allocatable, conditions) through the status
// subresource, since an API server ignores status on create. It returns the
// node as stored.
func CreateNode(ctx context.Context, c kubernetes.Interface, n *v1.Node) (*v1.Node, error) {
	created, err := c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating node %s: %w", n.Name, err)
	}
	created.Status = n.Status
	updated, err := c.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("setting the status of node %s: %w", n.Name, err)
	}
	return updated, nil
}

// WaitSchedulerSeesNodes waits until a scheduler's node lister holds the
// nodes with their allocatable and without the unreachable taint. Nodes
// reach a scheduler asynchronously; a pod tried before they arrive would be
// found unschedulable against a partial cluster, which is not what a run
// measures.
func WaitSchedulerSeesNodes(ctx context.Context, lister corelisters.NodeLister, nodes []*v1.Node, timeout time.Duration) error {
	return wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		for _, n := range nodes {
			seen, err := lister.Get(n.Name)
			if err != nil || len(seen.Status.Allocatable) == 0 {
				return false, nil
			}
			// A node back from a drill is usable once its taint is gone.
			if slices.ContainsFunc(seen.Spec.Taints, func(t v1.Taint) bool { return t.Key == v1.TaintNodeUnreachable }) {
				return false, nil
			}
		}
		return true, nil
	})
}
