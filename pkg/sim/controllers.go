package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/deployment"
	"k8s.io/kubernetes/pkg/controller/job"
	"k8s.io/kubernetes/pkg/controller/namespace"
	"k8s.io/kubernetes/pkg/controller/replicaset"
	"k8s.io/kubernetes/pkg/controller/statefulset"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/internal/gc"
)

// Controllers says which of kube-controller-manager's controllers run
// beside an embedded control plane. The garbage collector always runs: it is
// what deletes a Deployment's ReplicaSets and pods when the Deployment goes.
type Controllers struct {
	// Workloads runs the Deployment, ReplicaSet, StatefulSet and Job
	// controllers, for a cluster whose pods they make (the local cluster).
	// The harness leaves them off: it acts as them (Workloads).
	Workloads bool
	// Namespaces runs the namespace controller, which empties a namespace
	// being deleted, as scheduler_perf runs it.
	Namespaces bool
	// Workers per controller, and GCWorkers for the garbage collector.
	Workers, GCWorkers int
	// GCSync is how often the garbage collector looks for new resources.
	GCSync time.Duration
}

// burstReplicas is the ReplicaSet controller's burst, kube-controller-manager's default.
const burstReplicas = 500

// StartControllers builds the chosen controllers on factory and runs them
// until the returned stop is called (or ctx ends); stop waits for them. The
// caller starts factory after this returns (informers added to a started
// factory need another Start), then closes started.
func StartControllers(ctx context.Context, cfg *rest.Config, client kubernetes.Interface,
	factory informers.SharedInformerFactory, started <-chan struct{}, c Controllers) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		if err != nil {
			cancel()
		}
	}()
	collector, err := gc.New(ctx, cfg, client, factory, started)
	if err != nil {
		return nil, err
	}
	runs := []func(){
		func() { collector.Run(ctx, c.GCWorkers, c.GCSync) },
		func() { collector.Sync(ctx, collector.Discovery, c.GCSync) },
		// New resource kinds (CRDs) become known to the collector when its
		// mapper forgets what it learned, as kube-controller-manager resets it.
		func() {
			for ctx.Err() == nil {
				collector.Mapper.Reset()
				select {
				case <-ctx.Done():
				case <-time.After(c.GCSync):
				}
			}
		},
		func() {
			select {
			case <-started:
				collector.MetadataInformers.Start(ctx.Done())
			case <-ctx.Done():
			}
		},
	}
	if c.Namespaces {
		ns := namespace.NewNamespaceController(ctx, client, collector.Metadata, client.Discovery().ServerPreferredNamespacedResources,
			factory.Core().V1().Namespaces(), 10*time.Hour, v1.FinalizerKubernetes)
		runs = append(runs, func() { ns.Run(ctx, c.Workers) })
	}
	if c.Workloads {
		workloads, err := workloadControllers(ctx, client, factory, c.Workers)
		if err != nil {
			return nil, err
		}
		runs = append(runs, workloads...)
	}
	var wg sync.WaitGroup
	for _, run := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run()
		}()
	}
	return func() {
		cancel()
		wg.Wait()
		collector.MetadataInformers.Shutdown()
	}, nil
}

// workloadControllers builds the Deployment, ReplicaSet, StatefulSet and Job
// controllers and returns their run funcs.
func workloadControllers(ctx context.Context, client kubernetes.Interface, factory informers.SharedInformerFactory, workers int) ([]func(), error) {
	apps, core, batch := factory.Apps().V1(), factory.Core().V1(), factory.Batch().V1()
	deployments, err := deployment.NewDeploymentController(ctx, apps.Deployments(), apps.ReplicaSets(), core.Pods(), client)
	if err != nil {
		return nil, fmt.Errorf("deployment controller: %w", err)
	}
	replicaSets := replicaset.NewReplicaSetController(ctx, apps.ReplicaSets(), core.Pods(), client, burstReplicas)
	statefulSets := statefulset.NewStatefulSetController(ctx, core.Pods(), apps.StatefulSets(),
		core.PersistentVolumeClaims(), apps.ControllerRevisions(), client)
	jobs, err := job.NewController(ctx, core.Pods(), batch.Jobs(), client)
	if err != nil {
		return nil, fmt.Errorf("job controller: %w", err)
	}
	return []func(){
		func() { deployments.Run(ctx, workers) },
		func() { replicaSets.Run(ctx, workers) },
		func() { statefulSets.Run(ctx, workers) },
		func() { jobs.Run(ctx, workers) },
	}, nil
}

// The Lease kube-controller-manager holds while it leads: its presence,
// recently renewed, says a cluster's Deployment, ReplicaSet, StatefulSet
// and Job controllers run.
const (
	controllerLeaseNamespace = "kube-system"
	controllerLeaseName      = "kube-controller-manager"
	controllerLeaseSeconds   = 15
)

// ClusterRunsControllers reports whether kube-controller-manager (or a
// stand-in holding its Lease, as the local cluster does) leads in the
// cluster: its Lease was renewed within its duration.
func ClusterRunsControllers(ctx context.Context, c kubernetes.Interface) (bool, error) {
	lease, err := c.CoordinationV1().Leases(controllerLeaseNamespace).Get(ctx, controllerLeaseName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading Lease %s/%s, which says whether the cluster runs its controllers: %w",
			controllerLeaseNamespace, controllerLeaseName, err)
	}
	s := lease.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil {
		return false, nil
	}
	duration := time.Duration(ptr.Deref(s.LeaseDurationSeconds, controllerLeaseSeconds)) * time.Second
	return time.Since(s.RenewTime.Time) < 2*duration, nil
}

// HoldControllerLease holds kube-controller-manager's Lease for identity
// until ctx ends, renewing it as kube-controller-manager does, so that
// ClusterRunsControllers (and anyone else who asks) sees that controllers
// run. For a cluster that runs them in-process.
func HoldControllerLease(ctx context.Context, c kubernetes.Interface, identity string) {
	leases := c.CoordinationV1().Leases(controllerLeaseNamespace)
	renew := func() error {
		now := metav1.NewMicroTime(time.Now())
		lease, err := leases.Get(ctx, controllerLeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: controllerLeaseName},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: &identity, LeaseDurationSeconds: ptr.To[int32](controllerLeaseSeconds),
					AcquireTime: &now, RenewTime: &now}}, metav1.CreateOptions{})
			return err
		}
		if err != nil {
			return err
		}
		lease.Spec.HolderIdentity, lease.Spec.RenewTime = &identity, &now
		lease.Spec.LeaseDurationSeconds = ptr.To[int32](controllerLeaseSeconds)
		_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		return err
	}
	for {
		if err := renew(); err != nil && ctx.Err() == nil {
			klog.FromContext(ctx).Error(err, "renewing the controllers' Lease")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(controllerLeaseSeconds * time.Second / 3):
		}
	}
}
