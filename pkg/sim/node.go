package sim

import (
	"context"
	"fmt"
	"slices"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// CreateNode registers a synthetic node as a kubelet does: the object, then
// its status (capacity, allocatable, conditions) through the status
// subresource, since an API server may drop status on create. A node with
// only a generateName gets its name here, as an API server would choose it
// (the prefix and 5 random characters, again on a clash), since the memory
// backend does not generate names and the kubernetes.io/hostname label must
// carry the name. It returns the node as stored; n gets its name.
func CreateNode(ctx context.Context, c kubernetes.Interface, n *v1.Node) (*v1.Node, error) {
	generated := n.Name == "" && n.GenerateName != ""
	var created *v1.Node
	err := WithGeneratedName(n, func() (err error) {
		if generated || n.Labels[v1.LabelHostname] == "" {
			metav1.SetMetaDataLabel(&n.ObjectMeta, v1.LabelHostname, n.Name)
		}
		created, err = c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		return err
	})
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

// nameTries bounds the names tried for an object with a generateName.
const nameTries = 10

// WithGeneratedName runs create for m; when m has only a generateName, under
// a name chosen as an API server chooses it (the prefix and 5 random
// characters, again on a clash), since the memory backend does not generate
// names and callers want the name before the object exists (a node's
// hostname label carries it).
func WithGeneratedName(m metav1.Object, create func() error) error {
	generated := m.GetName() == "" && m.GetGenerateName() != ""
	for try := 1; ; try++ {
		if generated {
			m.SetName(m.GetGenerateName() + rand.String(5))
		}
		err := create()
		if err == nil || !generated || !apierrors.IsAlreadyExists(err) || try == nameTries {
			return err
		}
	}
}

// NodeView returns a lookup of the nodes a scheduler holds at one moment
// (nil for a node it does not hold). inprocscheduler.Scheduler.NodeView is
// one: the scheduler's cache, which each scheduling cycle snapshots.
type NodeView func() func(name string) *v1.Node

// WaitSchedulerSeesNodes waits until a scheduler holds the nodes with their
// allocatable and without the unreachable taint. Nodes reach a scheduler
// asynchronously; a pod tried before they arrive would be found
// unschedulable against a partial cluster, which is not what a run
// measures.
func WaitSchedulerSeesNodes(ctx context.Context, view NodeView, nodes []*v1.Node, timeout time.Duration) error {
	return wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		lookup := view()
		for _, n := range nodes {
			seen := lookup(n.Name)
			if seen == nil || len(seen.Status.Allocatable) == 0 {
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

// WaitSchedulerSeesPods waits until the scheduler's pod informer (lister)
// holds each of pods: those the harness bound itself reach the scheduler's
// cache only through it.
func WaitSchedulerSeesPods(ctx context.Context, lister corelisters.PodLister, pods []*v1.Pod, timeout time.Duration) error {
	seen := 0
	return wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		// Pods already seen stay seen: resume at the first one missing.
		for ; seen < len(pods); seen++ {
			if _, err := lister.Pods(pods[seen].Namespace).Get(pods[seen].Name); err != nil {
				return false, nil
			}
		}
		return true, nil
	})
}

// unreachable are the taints the node lifecycle controller puts on a node
// that stopped reporting: the scheduler keeps new pods off it.
var unreachable = []v1.Taint{
	{Key: v1.TaintNodeUnreachable, Effect: v1.TaintEffectNoSchedule},
	{Key: v1.TaintNodeUnreachable, Effect: v1.TaintEffectNoExecute},
}

// LoseNode takes a node away as a failure would: removed, or (remove
// false) NotReady and tainted unreachable, as the node lifecycle controller
// marks a node whose kubelet stopped reporting.
func LoseNode(ctx context.Context, c kubernetes.Interface, name string, remove bool) error {
	if remove {
		if err := c.CoreV1().Nodes().Delete(ctx, name, RemoveNow); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("removing node %s: %w", name, err)
		}
		return nil
	}
	return setReachable(ctx, c, name, false)
}

// RestoreNode undoes LoseNode: a removed node registers again (n as it was
// first created), a tainted one loses the taints and is Ready again.
func RestoreNode(ctx context.Context, c kubernetes.Interface, n *v1.Node, removed bool) error {
	if removed {
		_, err := CreateNode(ctx, c, n.DeepCopy())
		return err
	}
	return setReachable(ctx, c, n.Name, true)
}

// setReachable changes a node's unreachable taints, then its Ready
// condition through the status subresource.
func setReachable(ctx context.Context, c kubernetes.Interface, name string, reachable bool) error {
	nodes := c.CoreV1().Nodes()
	n, err := nodes.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	status, reason, message, change := v1.ConditionTrue, "KubeletReady", "failure drill: the node is back", "untainting"
	n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t v1.Taint) bool { return t.Key == v1.TaintNodeUnreachable })
	if !reachable {
		n.Spec.Taints = append(n.Spec.Taints, unreachable...)
		status, reason, message, change = v1.ConditionUnknown, "NodeStatusUnknown", "failure drill: the node stopped reporting", "tainting"
	}
	if n, err = nodes.Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("%s node %s: %w", change, name, err)
	}
	ready := v1.NodeCondition{Type: v1.NodeReady, Status: status, Reason: reason, Message: message,
		LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}
	i := slices.IndexFunc(n.Status.Conditions, func(c v1.NodeCondition) bool { return c.Type == v1.NodeReady })
	if i < 0 {
		n.Status.Conditions = append(n.Status.Conditions, ready)
	} else {
		n.Status.Conditions[i] = ready
	}
	if _, err := nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("node %s status: %w", name, err)
	}
	return nil
}
