// Package sim acts on a cluster the way its controllers and kubelets
// would, through any backend: an in-memory API, an embedded control plane or
// a real cluster. It says what each backend can do, so that callers ask
// rather than check its type, and creates nodes as a kubelet registers
// them.
package sim

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/placer-dev/placer/pkg/bench/memapi"
	"github.com/placer-dev/placer/pkg/controlplane"
)

// Backend is where a run's objects live and its scheduler connects.
type Backend interface {
	Name() string
	Client() kubernetes.Interface
	// RESTConfig is nil for the memory backend.
	RESTConfig() *rest.Config
	// Shared reports a cluster that outlives the run (a real cluster):
	// the run removes what it made, and only that. The others are thrown
	// away whole.
	Shared() bool
	// RunsControllers reports a cluster whose own Deployment, ReplicaSet,
	// StatefulSet and Job controllers make the pods of the run's controller
	// objects; elsewhere the run makes them, as those controllers would.
	RunsControllers() bool
	// PrepareNode adds to a synthetic node what the backend needs: on a
	// real cluster, the annotation that lets KWOK keep it Ready and the
	// taint that keeps the cluster's own pods off it.
	PrepareNode(n *v1.Node)
	// PreparePod adds to the spec of a pod (or a pod template) the run
	// makes what the backend needs: on a real cluster, what keeps the pod
	// on the run's own nodes and from preempting anyone. It may be applied
	// more than once.
	PreparePod(ctx context.Context, spec *v1.PodSpec) error
	// UsedNamespace records that the run puts objects in ns, and whether
	// the run created it (then it is the run's to delete).
	UsedNamespace(ns string, created bool)
	// Namespaces lists the namespaces the run used and those it created.
	Namespaces() (used, created []string)
	// Reset removes what the run created but its namespaces, so that the
	// next run starts from the same cluster; a no-op where the backend is
	// thrown away whole.
	Reset() error
	// Close releases the backend; on a shared cluster it also deletes the
	// namespaces the run created.
	Close() error
}

// Backend names, for --backend.
const (
	BackendMemory   = "memory"
	BackendEmbedded = "embedded"
)

// Backends lists the backend names.
var Backends = []string{BackendMemory, BackendEmbedded, BackendKubeconfig}

// NewBackend starts a fresh backend by name. Each profile of a run gets its
// own, so that no profile inherits another's objects or caches.
func NewBackend(ctx context.Context, name, tempDir string) (Backend, error) {
	switch name {
	case BackendMemory:
		return &memoryBackend{client: memapi.NewClientset(memapi.NewStore())}, nil
	case BackendEmbedded:
		return NewEmbeddedBackend(ctx, controlplane.Options{TempDir: tempDir})
	case BackendKubeconfig:
		return nil, fmt.Errorf("--backend kubeconfig connects once per run: use NewKubeconfigBackend")
	}
	return nil, fmt.Errorf("--backend %q: want one of %v", name, Backends)
}

// private is what the in-process backends share: they are thrown away
// whole, so they need not track or prepare anything.
type private struct{}

func (private) Shared() bool                                  { return false }
func (private) RunsControllers() bool                         { return false }
func (private) PrepareNode(*v1.Node)                          {}
func (private) PreparePod(context.Context, *v1.PodSpec) error { return nil }
func (private) UsedNamespace(string, bool)                    {}
func (private) Namespaces() (used, created []string)          { return nil, nil }
func (private) Reset() error                                  { return nil }

type memoryBackend struct {
	private
	client kubernetes.Interface
}

func (b *memoryBackend) Name() string                 { return BackendMemory }
func (b *memoryBackend) Client() kubernetes.Interface { return b.client }
func (b *memoryBackend) RESTConfig() *rest.Config     { return nil }
func (b *memoryBackend) Close() error                 { return nil }

type embeddedBackend struct {
	private
	cp     *controlplane.ControlPlane
	client kubernetes.Interface
}

func (b *embeddedBackend) Name() string                 { return BackendEmbedded }
func (b *embeddedBackend) Client() kubernetes.Interface { return b.client }
func (b *embeddedBackend) RESTConfig() *rest.Config     { return b.cp.Config }
func (b *embeddedBackend) Close() error                 { return b.cp.Stop() }

// NewEmbeddedBackend starts an in-process etcd and kube-apiserver with opts,
// for runs that need API server settings of their own (scheduler_perf's
// admission plugins, for one).
func NewEmbeddedBackend(ctx context.Context, opts controlplane.Options) (Backend, error) {
	cp, err := controlplane.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	b, err := OnControlPlane(cp)
	if err != nil {
		cp.Stop()
		return nil, err
	}
	return b, nil
}

// OnControlPlane is the embedded backend on a control plane the caller
// started (a test's, say); Close stops it.
func OnControlPlane(cp *controlplane.ControlPlane) (Backend, error) {
	c, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		return nil, err
	}
	return &embeddedBackend{cp: cp, client: c}, nil
}
