// Package localcluster runs a Kubernetes cluster to try Placer on, in one
// process and without containers: the embedded control plane, the
// controllers that turn Deployments, StatefulSets and Jobs into pods (and
// the garbage collector that removes them again), simulated nodes over zones
// that report Ready and run whatever is bound to them, a provisioner for a
// zonal default StorageClass, and placer-scheduler with the configuration
// the manifests ship.
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/placer-dev/placer/manifests"
	"github.com/placer-dev/placer/pkg/bench/limits"
	"github.com/placer-dev/placer/pkg/controlplane"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
	"github.com/placer-dev/placer/pkg/sim"
)

// StorageClass is the name of the cluster's default StorageClass: volumes
// are made when a pod is scheduled (WaitForFirstConsumer), in its node's
// zone.
const StorageClass = "zonal"

// Options shape the cluster. Zero fields take the defaults of
// DefaultOptions.
type Options struct {
	// Zones and NodesPerZone: nodes are named <zone>-node-<i>, zones zone-a,
	// zone-b, ...
	Zones        int
	NodesPerZone int
	// NodeCPU, NodeMemory and NodePods are each node's capacity.
	NodeCPU    resource.Quantity
	NodeMemory resource.Quantity
	NodePods   int
	// SchedulerConfig is a KubeSchedulerConfiguration; nil means the one
	// in manifests/scheduler-config.yaml (profile "placer").
	SchedulerConfig []byte
	// TempDir is where the control plane's directory is made.
	TempDir string
	// ExternalScheduler leaves scheduling to a scheduler the caller runs
	// against the cluster's kubeconfig, such as the placer-scheduler binary
	// (its integration tests do); SchedulerConfig then only names the
	// profiles.
	ExternalScheduler bool
	// MaxObjects bounds the nodes the cluster makes (Zones × NodesPerZone),
	// as --max-objects does a benchmark run's: 0 means limits.Default.
	MaxObjects int
}

// DefaultOptions is 2 nodes of 8 cpus and 32Gi in each of 3 zones.
func DefaultOptions() Options {
	return Options{Zones: 3, NodesPerZone: 2, NodeCPU: resource.MustParse("8"),
		NodeMemory: resource.MustParse("32Gi"), NodePods: 110}
}

// Cluster is a running local cluster.
type Cluster struct {
	*controlplane.ControlPlane
	// Nodes are the simulated nodes' names.
	Nodes []string
	// SchedulerNames are the profiles the scheduler serves.
	SchedulerNames []string

	cancel context.CancelFunc
	sched  *inprocscheduler.Scheduler
	done   []chan struct{}
}

func (o *Options) validate() error {
	d := DefaultOptions()
	if o.Zones == 0 {
		o.Zones = d.Zones
	}
	if o.NodesPerZone == 0 {
		o.NodesPerZone = d.NodesPerZone
	}
	if o.NodeCPU.IsZero() {
		o.NodeCPU = d.NodeCPU
	}
	if o.NodeMemory.IsZero() {
		o.NodeMemory = d.NodeMemory
	}
	if o.NodePods == 0 {
		o.NodePods = d.NodePods
	}
	switch {
	case o.Zones < 0 || o.Zones > 26:
		return fmt.Errorf("zones: want 1 to 26, got %d", o.Zones)
	case o.NodesPerZone < 0:
		return fmt.Errorf("nodes per zone: want at least 1, got %d", o.NodesPerZone)
	case o.NodeCPU.Sign() < 0:
		return fmt.Errorf("node cpu: want a positive quantity, got %s", o.NodeCPU.String())
	case o.NodeMemory.Sign() < 0:
		return fmt.Errorf("node memory: want a positive quantity, got %s", o.NodeMemory.String())
	case o.NodePods < 0:
		return fmt.Errorf("node pods: want at least 1, got %d", o.NodePods)
	case o.NodePods > limits.MaxCount:
		return fmt.Errorf("node pods: %d is more than %d, the most any count may be (Kubernetes counts are 32-bit)", o.NodePods, int64(limits.MaxCount))
	}
	ceiling, err := limits.Ceiling(o.MaxObjects)
	if err != nil {
		return err
	}
	// Each node is an object in etcd, the API server's cache and the
	// scheduler's: a mistyped count would run the machine out of memory.
	if nodes := limits.Mul(int64(o.Zones), int64(o.NodesPerZone)); nodes > int64(ceiling) {
		return fmt.Errorf("nodes per zone: %d in %d zones makes %d nodes, more than the ceiling of %d; "+
			"if that is meant and the machine has the memory (about %d KiB a node), raise it with %s",
			o.NodesPerZone, o.Zones, nodes, ceiling, limits.BytesPerObject>>10, limits.Flag)
	}
	return nil
}

// Start brings the cluster up and returns once every component runs and
// every node is Ready. Stop (or a failed Start) removes everything.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	cfgData := opts.SchedulerConfig
	if cfgData == nil {
		cfgData = manifests.SchedulerConfig
	}
	schedCfg, err := inprocscheduler.DecodeConfig(cfgData)
	if err != nil {
		return nil, fmt.Errorf("scheduler configuration: %w", err)
	}
	cp, err := controlplane.Start(ctx, controlplane.Options{TempDir: opts.TempDir})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c = &Cluster{ControlPlane: cp, cancel: cancel}
	defer func() {
		if err != nil {
			_ = c.Stop()
			c = nil
		}
	}()
	for _, p := range schedCfg.Profiles {
		c.SchedulerNames = append(c.SchedulerNames, p.SchedulerName)
	}

	// The components share one client, with room for bursts of pod
	// creations and status updates.
	cfg := rest.CopyConfig(cp.Config)
	cfg.QPS, cfg.Burst = 200, 400
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if err := c.createStorageClass(ctx, client); err != nil {
		return nil, err
	}
	if err := c.createNodes(ctx, client, opts); err != nil {
		return nil, err
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	started := make(chan struct{})
	// Worker counts and the collector's period follow kube-controller-manager's
	// defaults, sized down for a laptop's cluster.
	stopControllers, err := sim.StartControllers(runCtx, cfg, client, factory, started,
		sim.Controllers{Workloads: true, Workers: workers, GCWorkers: workers, GCSync: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	c.done = append(c.done, goDone(func() { <-runCtx.Done(); stopControllers() }))
	// As kube-controller-manager does, so that tools (placer-bench on
	// --backend kubeconfig) know the controllers make the pods here.
	c.done = append(c.done, goDone(func() { sim.HoldControllerLease(runCtx, client, "placer-bench-cluster-up") }))
	kubelet, err := newKubelet(client, factory, c.Nodes)
	if err != nil {
		return nil, err
	}
	factory.Start(runCtx.Done())
	close(started)
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("informer for %v did not sync", typ)
		}
	}
	c.done = append(c.done, goDone(func() { kubelet.run(runCtx) }))
	c.done = append(c.done, goDone(func() { sim.RunProvisioner(runCtx, client, "") }))

	if opts.ExternalScheduler {
		return c, nil
	}
	c.sched, err = inprocscheduler.Start(runCtx, client, inprocscheduler.Options{Config: schedCfg, RESTConfig: cfg})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// goDone runs fn in a goroutine and returns a channel closed when it ends.
func goDone(fn func()) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	return done
}

// Stop stops every component, then the control plane, and removes the
// cluster's files.
func (c *Cluster) Stop() error {
	c.cancel()
	if c.sched != nil {
		c.sched.Stop()
	}
	for _, d := range c.done {
		select {
		case <-d:
		case <-time.After(30 * time.Second):
			// A component that does not stop must not keep the files.
		}
	}
	return c.ControlPlane.Stop()
}

func (c *Cluster) createStorageClass(ctx context.Context, client kubernetes.Interface) error {
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	class := &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: StorageClass,
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner:       sim.Provisioner,
		VolumeBindingMode: &wait,
	}
	if _, err := client.StorageV1().StorageClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating StorageClass %s: %w", StorageClass, err)
	}
	return nil
}

// zoneName is zone-a, zone-b, ... for i = 0, 1, ...
func zoneName(i int) string { return "zone-" + string(rune('a'+i)) }

func (c *Cluster) createNodes(ctx context.Context, client kubernetes.Interface, opts Options) error {
	var errs []error
	for z := 0; z < opts.Zones; z++ {
		zone := zoneName(z)
		for i := 0; i < opts.NodesPerZone; i++ {
			name := fmt.Sprintf("%s-node-%d", zone, i)
			node := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
				v1.LabelHostname:          name,
				v1.LabelTopologyZone:      zone,
				v1.LabelTopologyRegion:    "local",
				v1.LabelOSStable:          "linux",
				v1.LabelArchStable:        "amd64",
				"placer.dev/simulated-by": "placer-bench",
			}}}
			capacity := v1.ResourceList{v1.ResourceCPU: opts.NodeCPU, v1.ResourceMemory: opts.NodeMemory,
				v1.ResourcePods: *resource.NewQuantity(int64(opts.NodePods), resource.DecimalSI)}
			now := metav1.Now()
			node.Status = v1.NodeStatus{Capacity: capacity, Allocatable: capacity, Phase: v1.NodeRunning,
				Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue, Reason: "KubeletReady",
					Message: "simulated by placer-bench", LastHeartbeatTime: now, LastTransitionTime: now}},
				Addresses: []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: nodeIP(len(c.Nodes))},
					{Type: v1.NodeHostName, Address: name}},
				NodeInfo: v1.NodeSystemInfo{KubeletVersion: "v1.34.7", OperatingSystem: "linux", Architecture: "amd64"}}
			if _, err := sim.CreateNode(ctx, client, node); err != nil {
				errs = append(errs, err)
				continue
			}
			c.Nodes = append(c.Nodes, name)
		}
	}
	return errors.Join(errs...)
}
