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
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
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

// lastApplied is kubectl's annotation holding the whole applied object,
// environment values included.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Write writes the snapshot as a YAML List, the format of `kubectl get
// ... -o yaml`, cluster-scoped objects and owners before what refers to
// them.
func Write(w io.Writer, s *Snapshot) error {
	var items []any
	for _, g := range s.groups() {
		for _, o := range g.objects {
			o.GetObjectKind().SetGroupVersionKind(g.gvk)
			items = append(items, o)
		}
	}
	out, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// group is the objects of one kind.
type group struct {
	gvk     schema.GroupVersionKind
	objects []runtime.Object
	// add files obj under this kind and reports whether it is of it.
	add func(obj runtime.Object) bool
}

// groups lists the snapshot's objects by kind, cluster-scoped objects and
// owners before what refers to them.
func (s *Snapshot) groups() []group {
	return []group{
		kind(v1.SchemeGroupVersion, "Namespace", &s.Namespaces),
		kind(schedulingv1.SchemeGroupVersion, "PriorityClass", &s.PriorityClasses),
		kind(storagev1.SchemeGroupVersion, "StorageClass", &s.StorageClasses),
		kind(v1.SchemeGroupVersion, "Node", &s.Nodes),
		kind(v1.SchemeGroupVersion, "PersistentVolume", &s.Volumes),
		kind(v1.SchemeGroupVersion, "PersistentVolumeClaim", &s.Claims),
		kind(appsv1.SchemeGroupVersion, "Deployment", &s.Deployments),
		kind(appsv1.SchemeGroupVersion, "ReplicaSet", &s.ReplicaSets),
		kind(appsv1.SchemeGroupVersion, "StatefulSet", &s.StatefulSets),
		kind(batchv1.SchemeGroupVersion, "Job", &s.Jobs),
		kind(v1.SchemeGroupVersion, "Pod", &s.Pods),
	}
}

// kind is the group of one kind's objects, held in items.
func kind[T any, P interface {
	*T
	runtime.Object
}](gv schema.GroupVersion, name string, items *[]T) group {
	return group{gvk: gv.WithKind(name), objects: ptrs[T, P](*items), add: func(obj runtime.Object) bool {
		o, ok := obj.(P)
		if ok {
			*items = append(*items, *o)
		}
		return ok
	}}
}

// ptrs returns pointers to the elements, as runtime.Objects.
func ptrs[T any, P interface {
	*T
	runtime.Object
}](items []T) []runtime.Object {
	out := make([]runtime.Object, len(items))
	for i := range items {
		out[i] = P(&items[i])
	}
	return out
}

// Kinds are the kinds a snapshot holds.
func Kinds() []string {
	var out []string
	for _, g := range (&Snapshot{}).groups() {
		out = append(out, g.gvk.Kind)
	}
	return out
}

// Load reads a snapshot file: what Write writes, or `kubectl get
// nodes,pods,... -o yaml` (a List), or YAML documents of single objects.
// An object of another kind is an error naming it, so that nothing a user
// put in the file is silently dropped; Secrets and ConfigMaps are refused
// outright.
func Load(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := &Snapshot{}
	docs := utilyaml.NewYAMLReader(bufio.NewReader(f))
	for doc := 1; ; doc++ {
		data, err := docs.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, doc, err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		if err := s.addDocument(data); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, doc, err)
		}
	}
	s.scrub()
	return s, nil
}

// addDocument adds one YAML document: a List's items, or one object.
func (s *Snapshot) addDocument(data []byte) error {
	var head metav1.TypeMeta
	if err := yaml.Unmarshal(data, &head); err != nil {
		return err
	}
	if head.Kind != "List" {
		return s.addObject(data)
	}
	var list struct {
		Items []runtime.RawExtension `json:"items"`
	}
	if err := yaml.Unmarshal(data, &list); err != nil {
		return err
	}
	for i, item := range list.Items {
		if err := s.addObject(item.Raw); err != nil {
			return fmt.Errorf("items[%d]: %w", i, err)
		}
	}
	return nil
}

// addObject decodes one object (YAML or JSON) and files it by kind.
func (s *Snapshot) addObject(data []byte) error {
	obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return err
	}
	for _, g := range s.groups() {
		if g.add(obj) {
			return nil
		}
	}
	switch obj.(type) {
	case *v1.Secret, *v1.ConfigMap:
		return fmt.Errorf("kind %s: a snapshot never holds Secrets or ConfigMaps; remove it from the file", gvk.Kind)
	default:
		return fmt.Errorf("kind %s (%s): not a kind a snapshot holds; want one of %s", gvk.Kind, gvk.GroupVersion(), strings.Join(Kinds(), ", "))
	}
}

// scrub drops what may carry secret values and what no scheduler reads:
// containers' environment, kubectl's last-applied annotation, managed
// fields.
func (s *Snapshot) scrub() {
	for _, spec := range s.podSpecs() {
		scrubPodSpec(spec)
	}
	for _, g := range s.groups() {
		for _, o := range g.objects {
			m := o.(metav1.Object)
			m.SetManagedFields(nil)
			if a := m.GetAnnotations(); a != nil {
				delete(a, lastApplied)
			}
		}
	}
}

// podSpecs are the pods' specs and the controllers' pod templates'.
func (s *Snapshot) podSpecs() []*v1.PodSpec {
	return slices.Concat(
		specs(s.Pods, func(p *v1.Pod) *v1.PodSpec { return &p.Spec }),
		specs(s.Deployments, func(d *appsv1.Deployment) *v1.PodSpec { return &d.Spec.Template.Spec }),
		specs(s.ReplicaSets, func(r *appsv1.ReplicaSet) *v1.PodSpec { return &r.Spec.Template.Spec }),
		specs(s.StatefulSets, func(ss *appsv1.StatefulSet) *v1.PodSpec { return &ss.Spec.Template.Spec }),
		specs(s.Jobs, func(j *batchv1.Job) *v1.PodSpec { return &j.Spec.Template.Spec }))
}

// specs applies spec to each item.
func specs[T any](items []T, spec func(*T) *v1.PodSpec) []*v1.PodSpec {
	out := make([]*v1.PodSpec, len(items))
	for i := range items {
		out[i] = spec(&items[i])
	}
	return out
}

func scrubPodSpec(spec *v1.PodSpec) {
	for _, cs := range [][]v1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			cs[i].Env, cs[i].EnvFrom = nil, nil
		}
	}
	for i := range spec.EphemeralContainers {
		spec.EphemeralContainers[i].Env, spec.EphemeralContainers[i].EnvFrom = nil, nil
	}
}

// Take reads the cluster a kubeconfig file points at and writes its
// snapshot to out, a new file readable by its owner only (a snapshot
// describes a whole cluster); an existing file is never overwritten. It
// returns what it wrote.
func Take(ctx context.Context, kubeconfig, out string) (*Snapshot, error) {
	if kubeconfig == "" {
		return nil, errors.New("--kubeconfig FILE is required: the cluster to read")
	}
	if out == "" {
		return nil, errors.New("-o FILE is required: where to write the snapshot")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("-o %s: the file exists; a snapshot never overwrites one", out)
		}
		return nil, fmt.Errorf("-o %s: %w", out, err)
	}
	s, err := Read(ctx, c)
	if err == nil {
		err = Write(f, s)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return nil, fmt.Errorf("reading the cluster at %s: %w", cfg.Host, err)
	}
	return s, nil
}
