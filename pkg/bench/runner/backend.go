package runner

import (
	"context"
	"fmt"

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
		cp, err := controlplane.Start(ctx, controlplane.Options{TempDir: tempDir})
		if err != nil {
			return nil, err
		}
		c, err := kubernetes.NewForConfig(cp.Config)
		if err != nil {
			cp.Stop()
			return nil, err
		}
		return &embeddedBackend{cp: cp, client: c}, nil
	case BackendKubeconfig:
		return nil, fmt.Errorf("--backend kubeconfig connects once per run: use NewKubeconfigBackend")
	}
	return nil, fmt.Errorf("--backend %q: want one of %v", name, Backends)
}

type memoryBackend struct{ client kubernetes.Interface }

func (b *memoryBackend) Name() string                 { return BackendMemory }
func (b *memoryBackend) Client() kubernetes.Interface { return b.client }
func (b *memoryBackend) RESTConfig() *rest.Config     { return nil }
func (b *memoryBackend) Close() error                 { return nil }

type embeddedBackend struct {
	cp     *controlplane.ControlPlane
	client kubernetes.Interface
}

func (b *embeddedBackend) Name() string                 { return BackendEmbedded }
func (b *embeddedBackend) Client() kubernetes.Interface { return b.client }
func (b *embeddedBackend) RESTConfig() *rest.Config     { return b.cp.Config }
func (b *embeddedBackend) Close() error                 { return b.cp.Stop() }
