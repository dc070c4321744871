package testkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	configv1 "k8s.io/kube-scheduler/config/v1"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	frameworkruntime "k8s.io/kubernetes/pkg/scheduler/framework/runtime"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/controlplane"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
	"github.com/placer-dev/placer/pkg/sim"
)

// Backend is where an Env's objects live.
type Backend string

const (
	// Embedded is a real etcd and kube-apiserver in the test process, one per
	// Env: API validation, defaulting, admission and RBAC as in a cluster.
	// It takes a few seconds to start.
	Embedded Backend = "embedded"
	// Memory is the harness's in-memory API (pkg/bench/memapi): no API
	// server, so it starts at once, but nothing is defaulted or validated and
	// events are dropped (the reasons of unschedulable pods are still on
	// their PodScheduled condition).
	Memory Backend = "memory"
)

// RunID is the value of generate.RunLabel on every node and object the kit
// generates.
const RunID = "testkit"

// DefaultTimeout bounds every wait of an Env unless Options.Timeout says
// otherwise. It guards against hangs, not slowness: reaching it means
// something is broken, on any machine.
const DefaultTimeout = 3 * time.Minute

// Options configure Start. The zero value starts an embedded control plane
// with no nodes and upstream kube-scheduler's default configuration and
// plugins, plus Placer's.
type Options struct {
	// Backend is Embedded (the default) or Memory.
	Backend Backend

	// Cluster holds the zones and node groups created before the scheduler
	// starts, as in a workload file's cluster: node i of a group is named
	// <group>-<i> and goes to the group's (or the cluster's) zones round
	// robin. Empty: no nodes (add them with AddNodes).
	Cluster workload.Cluster

	// Registry holds the out-of-tree plugins the scheduler can run, beside
	// upstream's in-tree ones. nil means Placer's (registry.All()); give your
	// own to test your plugins (merge Placer's in with Registry.Merge if
	// your profile uses them too).
	Registry frameworkruntime.Registry

	// The scheduler configuration is given at most one way; none means
	// upstream's default configuration, one profile "default-scheduler".
	// Each is decoded, defaulted and validated as kube-scheduler --config
	// does.
	//
	// ConfigFile is a KubeSchedulerConfiguration file.
	ConfigFile string
	// ConfigYAML is the file's content.
	ConfigYAML []byte
	// Config is the versioned struct (kubescheduler.config.k8s.io/v1).
	Config *configv1.KubeSchedulerConfiguration

	// SchedulerName is the profile the kit's pods ask for (a workload's
	// pod.schedulerName overrides it). Empty: the configuration's first
	// profile. Required with External.
	SchedulerName string

	// External, when set, replaces the in-process scheduler: it is called
	// once, after the control plane is up and Cluster's nodes exist, must
	// start the scheduler under test (a built binary, say, connecting with
	// env.ControlPlane.KubeconfigPath) and return once it serves. The kit
	// cannot see into such a scheduler, so AddNodes and UpdateNode do not
	// wait for it to notice: prepare nodes in External, before starting it.
	// Registry and the configuration fields must then be empty. Embedded only.
	External func(tb testing.TB, env *Env)

	// Seed makes generated names deterministic, as a workload file's seed.
	Seed int64

	// Timeout bounds each wait; 0 means DefaultTimeout.
	Timeout time.Duration
}

// validate checks what can be checked before anything starts.
func (o *Options) validate() error {
	var errs []error
	switch o.Backend {
	case "", Embedded, Memory:
	default:
		errs = append(errs, fmt.Errorf("Options.Backend %q: want %q or %q", o.Backend, Embedded, Memory))
	}
	if o.External != nil {
		if o.Backend == Memory {
			errs = append(errs, errors.New("Options.External needs an API server to connect to: use Backend Embedded, not Memory"))
		}
		if o.SchedulerName == "" {
			errs = append(errs, errors.New("Options.SchedulerName is required with Options.External: it is what the pods ask for"))
		}
		for name, set := range map[string]bool{"Registry": o.Registry != nil, "ConfigFile": o.ConfigFile != "",
			"ConfigYAML": o.ConfigYAML != nil, "Config": o.Config != nil} {
			if set {
				errs = append(errs, fmt.Errorf("Options.%s is set, but Options.External starts the scheduler: configure it there", name))
			}
		}
	}
	if o.Timeout < 0 {
		errs = append(errs, fmt.Errorf("Options.Timeout %v: must not be negative", o.Timeout))
	}
	sortErrors(errs)
	return errors.Join(errs...)
}

func sortErrors(errs []error) {
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
}

// Env is one test's cluster: an API of its own, the nodes and workloads the
// test created through the kit, and the scheduler under test. Its methods
// fail the test (tb.Fatal) on any error, naming what failed, so a test needs
// no error handling of its own. As t.Fatal, they must be called from the
// goroutine of the test that started the Env.
type Env struct {
	// Client is an admin client of the API.
	Client kubernetes.Interface
	// ControlPlane is the embedded control plane: its Config, its
	// KubeconfigPath, Kubeconfig for other users. nil on Memory.
	ControlPlane *controlplane.ControlPlane
	// Scheduler is the in-process scheduler; nil with Options.External.
	Scheduler *inprocscheduler.Scheduler
	// SchedulerName is the profile the kit's pods ask for.
	SchedulerName string

	tb      testing.TB
	ctx     context.Context
	timeout time.Duration

	mu        sync.Mutex
	file      *workload.File
	gen       *generate.Generator
	sim       *sim.Workloads
	workloads []*Workload

	provisionOnce sync.Once
}

// Start starts an Env for the test: the backend, then Options.Cluster's
// nodes, then the scheduler, so that the scheduler's first look at the
// cluster holds every node. Everything is stopped and removed by tb.Cleanup.
func Start(tb testing.TB, opts Options) *Env {
	tb.Helper()
	if err := opts.validate(); err != nil {
		tb.Fatalf("testkit.Start: %v", err)
	}
	e := &Env{tb: tb, ctx: tb.Context(), timeout: opts.Timeout}
	if e.timeout == 0 {
		e.timeout = DefaultTimeout
	}
	e.file = &workload.File{APIVersion: workload.APIVersion, Kind: workload.Kind, Name: "testkit", Seed: opts.Seed,
		Cluster: workload.Cluster{Zones: opts.Cluster.Zones}}
	if len(opts.Cluster.NodeGroups) > 0 {
		if err := e.checkNodeGroups(opts.Cluster.NodeGroups); err != nil {
			tb.Fatalf("testkit.Start: Options.Cluster: %v", err)
		}
		e.file.Cluster.NodeGroups = append(e.file.Cluster.NodeGroups, opts.Cluster.NodeGroups...)
	}
	e.gen = generate.New(e.file, RunID)

	// The configuration is checked before anything starts, so that a bad
	// one costs no control plane.
	var cfg *schedconfig.KubeSchedulerConfiguration
	e.SchedulerName = opts.SchedulerName
	if opts.External == nil {
		var err error
		if cfg, err = schedulerConfig("Options", opts.ConfigFile, opts.ConfigYAML, opts.Config); err != nil {
			tb.Fatalf("testkit.Start: %v", err)
		}
		if e.SchedulerName, err = pickProfile("Options", cfg, opts.SchedulerName); err != nil {
			tb.Fatalf("testkit.Start: %v", err)
		}
	}

	var backend sim.Backend
	var err error
	switch opts.Backend {
	case Memory:
		backend, err = sim.NewBackend(e.ctx, sim.BackendMemory, "")
	default:
		e.ControlPlane = controlplane.StartForTest(tb, controlplane.Options{})
		backend, err = sim.OnControlPlane(e.ControlPlane)
	}
	if err != nil {
		tb.Fatalf("testkit.Start: %v", err)
	}
	e.Client = backend.Client()
	e.sim = sim.NewWorkloads(backend, e.gen, RunID)
	if _, err := e.createNodes(e.file.Cluster.NodeGroups); err != nil {
		tb.Fatalf("testkit.Start: %v", err)
	}
	if opts.External != nil {
		opts.External(tb, e)
		return e
	}
	s, err := inprocscheduler.Start(e.ctx, e.Client, inprocscheduler.Options{Config: cfg, Registry: opts.Registry, RESTConfig: backend.RESTConfig()})
	if err != nil {
		tb.Fatalf("testkit.Start: starting the scheduler: %v", err)
	}
	e.Scheduler = s
	// Cleanups run last-in first-out: the scheduler stops before its API.
	tb.Cleanup(s.Stop)
	return e
}

// checkNodeGroups validates node groups as the harness validates a
// workload file's cluster, together with those the Env has already.
func (e *Env) checkNodeGroups(groups []workload.NodeGroup) error {
	f := &workload.File{APIVersion: workload.APIVersion, Kind: workload.Kind, Name: "testkit",
		Cluster: workload.Cluster{Zones: e.file.Cluster.Zones, NodeGroups: append(append([]workload.NodeGroup(nil), e.file.Cluster.NodeGroups...), groups...)},
		Ops:     []workload.Op{{Op: workload.OpCreateNodes}}}
	_, err := reparse(f)
	return err
}

// reparse runs a File built in Go through the harness's own parser, so that
// it is defaulted and validated exactly as a workload file is.
func reparse(f *workload.File) (*workload.File, error) {
	data, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return workload.Parse(data, nil)
}

// createNodes creates the nodes of the named groups with their status
// (an API server ignores status on create) and returns them.
func (e *Env) createNodes(groups []workload.NodeGroup) ([]*v1.Node, error) {
	if len(groups) == 0 {
		return nil, nil
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.Name)
	}
	nodes := e.gen.Nodes(names...)
	for _, n := range nodes {
		if _, err := sim.CreateNode(e.ctx, e.Client, n); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

// AddNodes creates more node groups, in the cluster's zones, and returns
// their nodes. With the in-process scheduler it returns once the scheduler
// has seen them all, so that the next pod is scheduled against them.
func (e *Env) AddNodes(groups ...workload.NodeGroup) []*v1.Node {
	e.tb.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.checkNodeGroups(groups); err != nil {
		e.tb.Fatalf("testkit: AddNodes: %v", err)
	}
	e.file.Cluster.NodeGroups = append(e.file.Cluster.NodeGroups, groups...)
	nodes, err := e.createNodes(groups)
	if err != nil {
		e.tb.Fatalf("testkit: AddNodes: %v", err)
	}
	if e.Scheduler != nil {
		err := sim.WaitSchedulerSeesNodes(e.ctx, e.Scheduler.NodeView, nodes, e.timeout)
		if err != nil {
			e.tb.Fatalf("testkit: AddNodes: the scheduler has not seen the new nodes: %v", err)
		}
	}
	return nodes
}

// UpdateNode changes a node's metadata or spec (status changes are ignored,
// as by the API): mutate is applied to the node as it is now, again on a
// conflict. With the in-process scheduler it returns once the scheduler has
// seen the change.
func (e *Env) UpdateNode(name string, mutate func(*v1.Node)) {
	e.tb.Helper()
	var updated *v1.Node
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := e.Client.CoreV1().Nodes().Get(e.ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(n)
		updated, err = e.Client.CoreV1().Nodes().Update(e.ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		e.tb.Fatalf("testkit: updating node %s: %v", name, err)
	}
	if e.Scheduler == nil {
		return
	}
	lister := e.Scheduler.Informers.Core().V1().Nodes().Lister()
	err = e.poll(func() (bool, error) {
		seen, err := lister.Get(name)
		return err == nil && seen.ResourceVersion == updated.ResourceVersion, nil
	})
	if err != nil {
		e.tb.Fatalf("testkit: the scheduler has not seen the update of node %s: %v", name, err)
	}
}

// Cordon marks a node unschedulable, as kubectl cordon does.
func (e *Env) Cordon(name string) {
	e.tb.Helper()
	e.UpdateNode(name, func(n *v1.Node) { n.Spec.Unschedulable = true })
}

// Nodes lists the cluster's nodes, sorted by name.
func (e *Env) Nodes() []*v1.Node {
	e.tb.Helper()
	list, err := e.Client.CoreV1().Nodes().List(e.ctx, metav1.ListOptions{})
	if err != nil {
		e.tb.Fatalf("testkit: listing nodes: %v", err)
	}
	out := make([]*v1.Node, len(list.Items))
	for i := range list.Items {
		out[i] = &list.Items[i]
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Zones returns the cluster's zones, as Options.Cluster named them.
func (e *Env) Zones() []string {
	return append([]string(nil), e.file.Cluster.Zones...)
}

// poll calls cond until it is true, the Env's timeout passes, or the test ends.
func (e *Env) poll(cond func() (bool, error)) error {
	return wait.PollUntilContextTimeout(e.ctx, 20*time.Millisecond, e.timeout, true, func(context.Context) (bool, error) {
		return cond()
	})
}

// startProvisioner starts, once, the harness's zonal volume provisioner,
// which plays the storage stack for StatefulSet claims; it stops when the
// test ends.
func (e *Env) startProvisioner() {
	e.provisionOnce.Do(func() {
		ctx, cancel := context.WithCancel(e.ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			sim.RunProvisioner(ctx, e.Client, "")
		}()
		e.tb.Cleanup(func() { cancel(); <-done })
	})
}
