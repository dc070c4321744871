package upstream

import (
	"context"
	"fmt"
	"strings"
	"sync"

	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/util/workqueue"
	corev1defaults "k8s.io/kubernetes/pkg/apis/core/v1"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/sim"
)

// Nodes: scheduler_perf's createNodes op and its node strategies.

// defaultNode is scheduler_perf's node when createNodes names no template.
func defaultNode(prefix string) *v1.Node {
	res := v1.ResourceList{
		v1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
		v1.ResourceCPU:    resource.MustParse("4"),
		v1.ResourceMemory: resource.MustParse("32Gi"),
	}
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix},
		Status: v1.NodeStatus{Capacity: res, Allocatable: res.DeepCopy(), Phase: v1.NodeRunning,
			Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}}},
	}
}

// defaultPod is scheduler_perf's pod when createPods names no template.
func defaultPod() *v1.Pod {
	req := v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("500Mi")}
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "pod-"},
		Spec: v1.PodSpec{Containers: []v1.Container{{
			Name: "pause", Image: "registry.k8s.io/pause:3.10.1",
			Ports:     []v1.ContainerPort{{ContainerPort: 80}},
			Resources: v1.ResourceRequirements{Limits: req, Requests: req.DeepCopy()},
		}}},
	}
}

func (e *executor) createNodes(ctx context.Context, s *Step) error {
	o := s.CreateNodes
	nodes := make([]*v1.Node, s.Count)
	for i := range nodes {
		n := defaultNode(fmt.Sprintf("node-%d-", s.Index))
		if s.NodeTemplate != nil {
			n = &v1.Node{}
			if err := s.NodeTemplate.decodeInto(i, s.Count, n); err != nil {
				return err
			}
		}
		// scheduler_perf's strategies patch each node after creating it; the
		// node is created with the result instead, one request fewer.
		switch {
		case o.LabelNodePrepareStrategy != nil:
			l := o.LabelNodePrepareStrategy
			setLabel(n, l.LabelKey, l.LabelValues[i%len(l.LabelValues)])
		case o.UniqueNodeLabelStrategy != nil:
			setLabel(n, o.UniqueNodeLabelStrategy.LabelKey, string(uuid.NewUUID()))
		case o.NodeAllocatableStrategy != nil:
			if n.Status.Allocatable == nil {
				n.Status.Allocatable = v1.ResourceList{}
			}
			for name, value := range o.NodeAllocatableStrategy.NodeAllocatable {
				q, err := resource.ParseQuantity(value)
				if err != nil {
					return fmt.Errorf("nodeAllocatableStrategy.nodeAllocatable[%s]: %w", name, err)
				}
				n.Status.Allocatable[v1.ResourceName(name)] = q
			}
		}
		e.label(n)
		e.backend.PrepareNode(n)
		if e.memory {
			corev1defaults.SetObjectDefaults_Node(n)
		}
		nodes[i] = n
	}
	var errMu sync.Mutex
	var firstErr error
	workqueue.ParallelizeUntil(ctx, 16, len(nodes), func(i int) {
		if err := e.createNode(ctx, nodes[i], o.NodeAllocatableStrategy); err != nil {
			errMu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			errMu.Unlock()
		}
	})
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	for _, n := range nodes {
		e.zones[n.Name] = n.Labels[generate.ZoneLabel]
	}
	e.mu.Unlock()
	return e.waitSchedulerSees(ctx, nodes)
}

func setLabel(m metav1.Object, k, v string) {
	l := m.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[k] = v
	m.SetLabels(l)
}

// createNode creates a node (its name chosen as sim.CreateNode does, so
// that the kubernetes.io/hostname label carries it, as scheduler_perf
// does), and its CSINode when the strategy asks for one.
func (e *executor) createNode(ctx context.Context, n *v1.Node, alloc *NodeAllocatableStrategy) error {
	if _, err := sim.CreateNode(ctx, e.client, n); err != nil {
		return err
	}
	if alloc == nil || len(alloc.CsiNodeAllocatable) == 0 && len(alloc.MigratedPlugins) == 0 {
		return nil
	}
	csi := &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: n.Name,
		Annotations: map[string]string{v1.MigratedPluginsAnnotationKey: strings.Join(alloc.MigratedPlugins, ",")}}}
	for _, driver := range sortedKeys(alloc.CsiNodeAllocatable) {
		csi.Spec.Drivers = append(csi.Spec.Drivers, storagev1.CSINodeDriver{Name: driver, NodeID: n.Name, Allocatable: alloc.CsiNodeAllocatable[driver]})
	}
	e.label(csi)
	if _, err := e.client.StorageV1().CSINodes().Create(ctx, csi, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating CSINode %s: %w", n.Name, err)
	}
	e.remember(objectKinds["CSINode"], "", n.Name)
	return nil
}

// waitSchedulerSees waits until the scheduler's cache holds the nodes: a
// pod tried before they arrive would meet a partial cluster.
func (e *executor) waitSchedulerSees(ctx context.Context, nodes []*v1.Node) error {
	return sim.WaitSchedulerSeesNodes(ctx, e.sched.NodeView, nodes, waitTimeout)
}
