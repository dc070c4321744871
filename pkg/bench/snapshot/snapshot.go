// Package snapshot reads what a scheduler sees of a live cluster — nodes,
// pods, volumes, claims, storage and priority classes, and the workload
// controllers that own pods — into a file, and reads such a file (or a
// `kubectl get ... -o yaml` dump, the same format) back, so that a
// benchmark can start from a copy of a real cluster (docs/workloads.md,
// cluster.snapshot). It only ever lists: nothing of the cluster is written.
// Secrets and ConfigMaps are never read, and containers' environment
// (env, envFrom) and the last-applied-configuration annotation, which may
// carry values, are dropped before anything is kept.
package snapshot

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Snapshot is a cluster as a scheduler sees it.
type Snapshot struct {
	Namespaces      []v1.Namespace
	Nodes           []v1.Node
	Pods            []v1.Pod
	Volumes         []v1.PersistentVolume
	Claims          []v1.PersistentVolumeClaim
	StorageClasses  []storagev1.StorageClass
	PriorityClasses []schedulingv1.PriorityClass
	Deployments     []appsv1.Deployment
	ReplicaSets     []appsv1.ReplicaSet
	StatefulSets    []appsv1.StatefulSet
	Jobs            []batchv1.Job
}

// Objects counts the snapshot's objects.
func (s *Snapshot) Objects() int {
	n := 0
	for _, g := range s.groups() {
		n += len(g.objects)
	}
	return n
}

// pageSize bounds one list request, so that a large cluster is read in
// pages rather than in one response the API server must build whole.
const pageSize = 500

// Read lists the cluster's objects a scheduler reads. It needs get and
// list on them, nothing more.
func Read(ctx context.Context, c kubernetes.Interface) (*Snapshot, error) {
	s := &Snapshot{}
	core, apps := c.CoreV1(), c.AppsV1()
	var err error
	steps := []struct {
		what string
		list func(metav1.ListOptions) (string, error)
	}{
		{"namespaces", page(ctx, &s.Namespaces, core.Namespaces().List, func(l *v1.NamespaceList) []v1.Namespace { return l.Items })},
		{"nodes", page(ctx, &s.Nodes, core.Nodes().List, func(l *v1.NodeList) []v1.Node { return l.Items })},
		{"pods", page(ctx, &s.Pods, core.Pods("").List, func(l *v1.PodList) []v1.Pod { return l.Items })},
		{"persistentvolumes", page(ctx, &s.Volumes, core.PersistentVolumes().List,
			func(l *v1.PersistentVolumeList) []v1.PersistentVolume { return l.Items })},
		{"persistentvolumeclaims", page(ctx, &s.Claims, core.PersistentVolumeClaims("").List,
			func(l *v1.PersistentVolumeClaimList) []v1.PersistentVolumeClaim { return l.Items })},
		{"storageclasses", page(ctx, &s.StorageClasses, c.StorageV1().StorageClasses().List,
			func(l *storagev1.StorageClassList) []storagev1.StorageClass { return l.Items })},
		{"priorityclasses", page(ctx, &s.PriorityClasses, c.SchedulingV1().PriorityClasses().List,
			func(l *schedulingv1.PriorityClassList) []schedulingv1.PriorityClass { return l.Items })},
		{"deployments", page(ctx, &s.Deployments, apps.Deployments("").List, func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items })},
		{"replicasets", page(ctx, &s.ReplicaSets, apps.ReplicaSets("").List, func(l *appsv1.ReplicaSetList) []appsv1.ReplicaSet { return l.Items })},
		{"statefulsets", page(ctx, &s.StatefulSets, apps.StatefulSets("").List,
			func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items })},
		{"jobs", page(ctx, &s.Jobs, c.BatchV1().Jobs("").List, func(l *batchv1.JobList) []batchv1.Job { return l.Items })},
	}
	for _, step := range steps {
		opts := metav1.ListOptions{Limit: pageSize}
		for {
			if opts.Continue, err = step.list(opts); err != nil {
				return nil, fmt.Errorf("listing %s: %w", step.what, err)
			}
			if opts.Continue == "" {
				break
			}
		}
	}
	s.scrub()
	return s, nil
}

// page turns a typed List into one that appends a page of items to into
// and returns the continue token.
func page[L metav1.ListInterface, T any](ctx context.Context, into *[]T, list func(context.Context, metav1.ListOptions) (L, error),
	items func(L) []T) func(metav1.ListOptions) (string, error) {
	return func(o metav1.ListOptions) (string, error) {
		l, err := list(ctx, o)
		if err != nil {
			return "", err
		}
		*into = append(*into, items(l)...)
		return l.GetContinue(), nil
	}
}
