// Package bench is Placer's benchmark harness. For now it runs a placement
// demo: an embedded control plane, the placer profile in-process, a small
// cluster over three zones, and a table of what went where.
package bench

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/placer-dev/placer/manifests"
	"github.com/placer-dev/placer/pkg/controlplane"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
)

// DemoOptions size the demo.
type DemoOptions struct {
	Zones       int // zones, each with CPUNodesPerZone cpu nodes and one GPU node
	CPUNodes    int // cpu nodes per zone
	CPUPods     int
	GPUPods     int
	TempDir     string        // parent of the control plane's directory
	WaitTimeout time.Duration // give up when pods are not all bound by then
}

// DefaultDemoOptions is what `make bench` runs.
func DefaultDemoOptions() DemoOptions {
	return DemoOptions{Zones: 3, CPUNodes: 2, CPUPods: 9, GPUPods: 4, WaitTimeout: 2 * time.Minute}
}

const (
	zoneLabel     = "topology.kubernetes.io/zone"
	gpuResource   = v1.ResourceName("nvidia.com/gpu")
	demoNamespace = "default"
)

// Placement is one pod and where it went.
type Placement struct {
	Pod, Node, Zone string
	GPUs            int64
}

// DemoResult is what RunDemo placed, with its timings.
type DemoResult struct {
	Placements        []Placement
	ControlPlaneStart time.Duration
	Scheduling        time.Duration
}

func (o DemoOptions) validate() error {
	for name, v := range map[string]int{"zones": o.Zones, "cpu-nodes": o.CPUNodes} {
		if v < 1 {
			return fmt.Errorf("--%s must be at least 1, got %d", name, v)
		}
	}
	for name, v := range map[string]int{"cpu-pods": o.CPUPods, "gpu-pods": o.GPUPods} {
		if v < 0 {
			return fmt.Errorf("--%s must not be negative, got %d", name, v)
		}
	}
	if o.GPUPods > o.Zones*demoGPUsPerNode {
		return fmt.Errorf("--gpu-pods=%d exceeds the %d GPUs of %d zones", o.GPUPods, o.Zones*demoGPUsPerNode, o.Zones)
	}
	return nil
}

const demoGPUsPerNode = 4

// RunDemo starts a control plane and the placer profile, creates the demo
// cluster and pods, waits for every pod to be bound and returns the placements.
func RunDemo(ctx context.Context, opts DemoOptions) (*DemoResult, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	res := &DemoResult{}
	start := time.Now()
	cp, err := controlplane.Start(ctx, controlplane.Options{TempDir: opts.TempDir})
	if err != nil {
		return nil, err
	}
	defer cp.Stop()
	res.ControlPlaneStart = time.Since(start)

	client, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		return nil, err
	}
	cfg, err := inprocscheduler.DecodeConfig(manifests.SchedulerConfig)
	if err != nil {
		return nil, fmt.Errorf("manifests/scheduler-config.yaml: %w", err)
	}
	// Nodes before the scheduler: its initial cache sync then holds them all.
	if err := createDemoNodes(ctx, client, opts); err != nil {
		return nil, err
	}
	sched, err := inprocscheduler.Start(ctx, client, inprocscheduler.Options{Config: cfg, RESTConfig: cp.Config})
	if err != nil {
		return nil, err
	}
	defer sched.Stop()

	start = time.Now()
	names, err := createDemoPods(ctx, client, opts)
	if err != nil {
		return nil, err
	}
	if err := waitAllBound(ctx, client, names, opts.WaitTimeout); err != nil {
		return nil, err
	}
	res.Scheduling = time.Since(start)
	res.Placements, err = collectPlacements(ctx, client)
	return res, err
}

func createDemoNodes(ctx context.Context, c kubernetes.Interface, o DemoOptions) error {
	for z := range o.Zones {
		zone := fmt.Sprintf("zone-%c", 'a'+z)
		for i := range o.CPUNodes + 1 {
			name := fmt.Sprintf("%s-cpu-%d", zone, i)
			alloc := v1.ResourceList{
				v1.ResourceCPU: resource.MustParse("16"), v1.ResourceMemory: resource.MustParse("64Gi"),
				v1.ResourcePods: resource.MustParse("110"),
			}
			if i == o.CPUNodes {
				name = zone + "-gpu-0"
				alloc[gpuResource] = *resource.NewQuantity(demoGPUsPerNode, resource.DecimalSI)
			}
			n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
				zoneLabel: zone, "kubernetes.io/hostname": name,
			}}}
			created, err := c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("creating node %s: %w", name, err)
			}
			created.Status = v1.NodeStatus{Allocatable: alloc, Capacity: alloc,
				Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}}}
			if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
				return fmt.Errorf("setting status of node %s: %w", name, err)
			}
		}
	}
	return nil
}

func createDemoPods(ctx context.Context, c kubernetes.Interface, o DemoOptions) ([]string, error) {
	var names []string
	mk := func(name, cpu string, gpus int64) error {
		req := v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse("1Gi")}
		var lim v1.ResourceList
		if gpus > 0 {
			req[gpuResource] = *resource.NewQuantity(gpus, resource.DecimalSI)
			lim = v1.ResourceList{gpuResource: *resource.NewQuantity(gpus, resource.DecimalSI)}
		}
		p := &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: demoNamespace},
			Spec: v1.PodSpec{SchedulerName: "placer", Containers: []v1.Container{{
				Name: "c", Image: "registry.k8s.io/pause:3.10",
				Resources: v1.ResourceRequirements{Requests: req, Limits: lim},
			}}},
		}
		if _, err := c.CoreV1().Pods(demoNamespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating pod %s: %w", name, err)
		}
		names = append(names, name)
		return nil
	}
	for i := range o.GPUPods {
		if err := mk(fmt.Sprintf("train-%d", i), "2", 1); err != nil {
			return nil, err
		}
	}
	for i := range o.CPUPods {
		if err := mk(fmt.Sprintf("web-%d", i), "1", 0); err != nil {
			return nil, err
		}
	}
	return names, nil
}

func waitAllBound(ctx context.Context, c kubernetes.Interface, names []string, timeout time.Duration) error {
	var unbound []string
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := c.CoreV1().Pods(demoNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		bound := map[string]bool{}
		for _, p := range list.Items {
			bound[p.Name] = p.Spec.NodeName != ""
		}
		unbound = unbound[:0]
		for _, n := range names {
			if !bound[n] {
				unbound = append(unbound, n)
			}
		}
		return len(unbound) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%d pods not bound (%s): %w", len(unbound), strings.Join(unbound, ", "), err)
	}
	return nil
}

func collectPlacements(ctx context.Context, c kubernetes.Interface) ([]Placement, error) {
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	zoneOf := map[string]string{}
	for _, n := range nodes.Items {
		zoneOf[n.Name] = n.Labels[zoneLabel]
	}
	pods, err := c.CoreV1().Pods(demoNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []Placement
	for _, p := range pods.Items {
		gpus := p.Spec.Containers[0].Resources.Requests[gpuResource]
		out = append(out, Placement{Pod: p.Name, Node: p.Spec.NodeName, Zone: zoneOf[p.Spec.NodeName], GPUs: gpus.Value()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pod < out[j].Pod })
	return out, nil
}

// PrintDemo writes the placements as a table, grouped by node.
func PrintDemo(w io.Writer, res *DemoResult) {
	byNode := map[string][]Placement{}
	for _, p := range res.Placements {
		byNode[p.Node] = append(byNode[p.Node], p)
	}
	nodes := make([]string, 0, len(byNode))
	for n := range byNode {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ZONE\tNODE\tPODS\tGPUS USED")
	for _, n := range nodes {
		var pods []string
		var gpus int64
		for _, p := range byNode[n] {
			pods = append(pods, p.Pod)
			gpus += p.GPUs
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", byNode[n][0].Zone, n, strings.Join(pods, " "), gpus)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d pods placed by profile \"placer\" in %v (control plane started in %v)\n",
		len(res.Placements), res.Scheduling.Round(time.Millisecond), res.ControlPlaneStart.Round(time.Millisecond))
}
