package upstream

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"
)

// objectTemplate is a template file: YAML, run through Go's text/template
// with .Index (0 … .Count-1) and .Count, and the functions div and mod, as
// scheduler_perf does. A file without "{{" is decoded once.
type objectTemplate struct {
	path   string
	tmpl   *template.Template
	static []byte // the file, when it has no template actions
}

func loadTemplate(path string) (*objectTemplate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := &objectTemplate{path: path}
	if !bytes.Contains(data, []byte("{{")) {
		t.static = data
		return t, nil
	}
	funcs := template.FuncMap{
		"div": func(a, b int) int { return a / b },
		"mod": func(a, b int) int { return a % b },
	}
	t.tmpl, err = template.New(filepath.Base(path)).Funcs(funcs).Parse(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// render returns the YAML of object index of count.
func (t *objectTemplate) render(index, count int) ([]byte, error) {
	if t.static != nil {
		return t.static, nil
	}
	var buf bytes.Buffer
	if err := t.tmpl.Execute(&buf, map[string]any{"Index": index, "Count": count}); err != nil {
		return nil, fmt.Errorf("%s: %w", t.path, err)
	}
	return buf.Bytes(), nil
}

// decodeInto renders object index of count into v, refusing unknown fields
// as scheduler_perf does.
func (t *objectTemplate) decodeInto(index, count int, v any) error {
	data, err := t.render(index, count)
	if err != nil {
		return err
	}
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		return fmt.Errorf("%s: %w", t.path, err)
	}
	return nil
}

// strictDecoder decodes any built-in kind, refusing unknown fields (the API
// server's strict field validation, which scheduler_perf's createAny asks
// for).
var strictDecoder = json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
	json.SerializerOptions{Yaml: true, Strict: true})

// decodeObject renders object index of count as a typed object of one of
// the kinds in objectKinds.
func (t *objectTemplate) decodeObject(index, count int) (runtime.Object, *objectKind, error) {
	data, err := t.render(index, count)
	if err != nil {
		return nil, nil, err
	}
	obj, gvk, err := strictDecoder.Decode(data, nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", t.path, err)
	}
	k, ok := objectKinds[gvk.Kind]
	if !ok || gvk.GroupVersion() != k.gv {
		return nil, nil, fmt.Errorf("%s: %w: creating %s (placer-bench creates %s)", t.path, ErrUnsupportedOp, gvk, strings.Join(kindNames(), ", "))
	}
	return obj, k, nil
}

// objectKind creates and deletes objects of one kind through the typed
// client, which every backend has (the memory backend has no dynamic
// client or discovery).
type objectKind struct {
	gv         schema.GroupVersion
	namespaced bool
	create     func(ctx context.Context, c kubernetes.Interface, ns string, obj runtime.Object) (metav1.Object, error)
	remove     func(ctx context.Context, c kubernetes.Interface, ns, name string) error
}

// typedClient is what client-go's typed clients have in common.
type typedClient[T runtime.Object] interface {
	Create(context.Context, T, metav1.CreateOptions) (T, error)
	Delete(context.Context, string, metav1.DeleteOptions) error
}

func kindOf[T interface {
	runtime.Object
	metav1.Object
}](gv schema.GroupVersion, namespaced bool, client func(c kubernetes.Interface, ns string) typedClient[T]) *objectKind {
	return &objectKind{
		gv: gv, namespaced: namespaced,
		create: func(ctx context.Context, c kubernetes.Interface, ns string, obj runtime.Object) (metav1.Object, error) {
			return client(c, ns).Create(ctx, obj.(T), metav1.CreateOptions{})
		},
		remove: func(ctx context.Context, c kubernetes.Interface, ns, name string) error {
			return client(c, ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
		},
	}
}

// objectKinds are the kinds createAny and churn create: what scheduling
// reads. Dynamic Resource Allocation's kinds are missing on purpose: their
// test cases need drivers (createResourceDriver), which placer-bench does
// not run.
var objectKinds = map[string]*objectKind{
	"Namespace": kindOf(v1.SchemeGroupVersion, false, func(c kubernetes.Interface, _ string) typedClient[*v1.Namespace] {
		return c.CoreV1().Namespaces()
	}),
	"Node": kindOf(v1.SchemeGroupVersion, false, func(c kubernetes.Interface, _ string) typedClient[*v1.Node] {
		return c.CoreV1().Nodes()
	}),
	"Pod": kindOf(v1.SchemeGroupVersion, true, func(c kubernetes.Interface, ns string) typedClient[*v1.Pod] {
		return c.CoreV1().Pods(ns)
	}),
	"Service": kindOf(v1.SchemeGroupVersion, true, func(c kubernetes.Interface, ns string) typedClient[*v1.Service] {
		return c.CoreV1().Services(ns)
	}),
	"ConfigMap": kindOf(v1.SchemeGroupVersion, true, func(c kubernetes.Interface, ns string) typedClient[*v1.ConfigMap] {
		return c.CoreV1().ConfigMaps(ns)
	}),
	"Secret": kindOf(v1.SchemeGroupVersion, true, func(c kubernetes.Interface, ns string) typedClient[*v1.Secret] {
		return c.CoreV1().Secrets(ns)
	}),
	"PersistentVolume": kindOf(v1.SchemeGroupVersion, false, func(c kubernetes.Interface, _ string) typedClient[*v1.PersistentVolume] {
		return c.CoreV1().PersistentVolumes()
	}),
	"PersistentVolumeClaim": kindOf(v1.SchemeGroupVersion, true, func(c kubernetes.Interface, ns string) typedClient[*v1.PersistentVolumeClaim] {
		return c.CoreV1().PersistentVolumeClaims(ns)
	}),
	"StorageClass": kindOf(storagev1.SchemeGroupVersion, false, func(c kubernetes.Interface, _ string) typedClient[*storagev1.StorageClass] {
		return c.StorageV1().StorageClasses()
	}),
	"CSINode": kindOf(storagev1.SchemeGroupVersion, false, func(c kubernetes.Interface, _ string) typedClient[*storagev1.CSINode] {
		return c.StorageV1().CSINodes()
	}),
	"CSIDriver": kindOf(storagev1.SchemeGroupVersion, false, func(c kubernetes.Interface, _ string) typedClient[*storagev1.CSIDriver] {
		return c.StorageV1().CSIDrivers()
	}),
	"PriorityClass": kindOf(schedulingv1.SchemeGroupVersion, false, func(c kubernetes.Interface, _ string) typedClient[*schedulingv1.PriorityClass] {
		return c.SchedulingV1().PriorityClasses()
	}),
	"PodDisruptionBudget": kindOf(policyv1.SchemeGroupVersion, true, func(c kubernetes.Interface, ns string) typedClient[*policyv1.PodDisruptionBudget] {
		return c.PolicyV1().PodDisruptionBudgets(ns)
	}),
	"Deployment": kindOf(appsv1.SchemeGroupVersion, true, func(c kubernetes.Interface, ns string) typedClient[*appsv1.Deployment] {
		return c.AppsV1().Deployments(ns)
	}),
	"ReplicaSet": kindOf(appsv1.SchemeGroupVersion, true, func(c kubernetes.Interface, ns string) typedClient[*appsv1.ReplicaSet] {
		return c.AppsV1().ReplicaSets(ns)
	}),
	"StatefulSet": kindOf(appsv1.SchemeGroupVersion, true, func(c kubernetes.Interface, ns string) typedClient[*appsv1.StatefulSet] {
		return c.AppsV1().StatefulSets(ns)
	}),
	"Job": kindOf(batchv1.SchemeGroupVersion, true, func(c kubernetes.Interface, ns string) typedClient[*batchv1.Job] {
		return c.BatchV1().Jobs(ns)
	}),
}

func kindNames() []string {
	out := make([]string, 0, len(objectKinds))
	for k := range objectKinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
