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
}

// groups lists the snapshot's objects by kind, cluster-scoped objects and
// owners before what refers to them.
func (s *Snapshot) groups() []group {
	return []group{
		{v1.SchemeGroupVersion.WithKind("Namespace"), ptrs(s.Namespaces)},
		{schedulingv1.SchemeGroupVersion.WithKind("PriorityClass"), ptrs(s.PriorityClasses)},
		{storagev1.SchemeGroupVersion.WithKind("StorageClass"), ptrs(s.StorageClasses)},
		{v1.SchemeGroupVersion.WithKind("Node"), ptrs(s.Nodes)},
		{v1.SchemeGroupVersion.WithKind("PersistentVolume"), ptrs(s.Volumes)},
		{v1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"), ptrs(s.Claims)},
		{appsv1.SchemeGroupVersion.WithKind("Deployment"), ptrs(s.Deployments)},
		{appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), ptrs(s.ReplicaSets)},
		{appsv1.SchemeGroupVersion.WithKind("StatefulSet"), ptrs(s.StatefulSets)},
		{batchv1.SchemeGroupVersion.WithKind("Job"), ptrs(s.Jobs)},
		{v1.SchemeGroupVersion.WithKind("Pod"), ptrs(s.Pods)},
	}
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
	switch o := obj.(type) {
	case *v1.Namespace:
		s.Namespaces = append(s.Namespaces, *o)
	case *v1.Node:
		s.Nodes = append(s.Nodes, *o)
	case *v1.Pod:
		s.Pods = append(s.Pods, *o)
	case *v1.PersistentVolume:
		s.Volumes = append(s.Volumes, *o)
	case *v1.PersistentVolumeClaim:
		s.Claims = append(s.Claims, *o)
	case *storagev1.StorageClass:
		s.StorageClasses = append(s.StorageClasses, *o)
	case *schedulingv1.PriorityClass:
		s.PriorityClasses = append(s.PriorityClasses, *o)
	case *appsv1.Deployment:
		s.Deployments = append(s.Deployments, *o)
	case *appsv1.ReplicaSet:
		s.ReplicaSets = append(s.ReplicaSets, *o)
	case *appsv1.StatefulSet:
		s.StatefulSets = append(s.StatefulSets, *o)
	case *batchv1.Job:
		s.Jobs = append(s.Jobs, *o)
	case *v1.Secret, *v1.ConfigMap:
		return fmt.Errorf("kind %s: a snapshot never holds Secrets or ConfigMaps; remove it from the file", gvk.Kind)
	default:
		return fmt.Errorf("kind %s (%s): not a kind a snapshot holds; want one of %s", gvk.Kind, gvk.GroupVersion(), strings.Join(Kinds(), ", "))
	}
	return nil
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
	var out []*v1.PodSpec
	for i := range s.Pods {
		out = append(out, &s.Pods[i].Spec)
	}
	for i := range s.Deployments {
		out = append(out, &s.Deployments[i].Spec.Template.Spec)
	}
	for i := range s.ReplicaSets {
		out = append(out, &s.ReplicaSets[i].Spec.Template.Spec)
	}
	for i := range s.StatefulSets {
		out = append(out, &s.StatefulSets[i].Spec.Template.Spec)
	}
	for i := range s.Jobs {
		out = append(out, &s.Jobs[i].Spec.Template.Spec)
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
