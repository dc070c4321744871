package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/bench/generate"
)

// BackendKubeconfig runs against any cluster a kubeconfig reaches.
const BackendKubeconfig = "kubeconfig"

// KWOKAnnotation on a node asks KWOK, when it runs in the cluster, to manage
// the node: keep it Ready and its pods Running. Without KWOK (or a kubelet),
// the cluster's node lifecycle controller marks synthetic nodes NotReady
// after its grace period (about 40 s), and their taints then keep pods off.
const KWOKAnnotation = "kwok.x-k8s.io/node"

// kubeconfigBackend is a real cluster. Everything the run creates carries
// the run label; Close removes it all, and the namespaces the run created.
type kubeconfigBackend struct {
	cfg    *rest.Config
	client kubernetes.Interface
	runID  string
	// controllers: the cluster's controllers make the pods of the run's
	// controller objects.
	controllers bool
	// classes are the run's never-preempting PriorityClasses, by what the
	// pods asked for (a class name, or "=<value>").
	classes map[string]string

	mu         sync.Mutex
	namespaces []string        // created by this run
	used       map[string]bool // every namespace the run put objects in
}

// Who makes the pods of the run's controller objects on a real cluster,
// for --controllers.
const (
	// ControllersAuto asks the cluster: its controllers make them when
	// kube-controller-manager's Lease is held (ClusterRunsControllers).
	ControllersAuto = "auto"
	// ControllersCluster: the cluster's controllers make them.
	ControllersCluster = "cluster"
	// ControllersHarness: the harness makes them, as it does on the
	// in-process backends (for a cluster without controllers).
	ControllersHarness = "harness"
)

// NewKubeconfigBackend connects with a kubeconfig file and checks the server
// answers before anything runs; controllers (ControllersAuto when empty)
// says who makes the pods of controller objects there.
func NewKubeconfigBackend(ctx context.Context, path, runID, controllers string) (Backend, error) {
	if path == "" {
		return nil, errors.New("--backend kubeconfig needs --kubeconfig FILE")
	}
	switch controllers {
	case "", ControllersAuto, ControllersCluster, ControllersHarness:
	default:
		return nil, fmt.Errorf("--controllers %q: want %s, %s or %s", controllers, ControllersAuto, ControllersCluster, ControllersHarness)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
	}
	// The harness creates thousands of objects; the server's own limits apply.
	cfg.QPS, cfg.Burst = 1000, 2000
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: the cluster at %s does not answer: %w", path, cfg.Host, err)
	}
	b := &kubeconfigBackend{cfg: cfg, client: c, runID: runID, controllers: controllers == ControllersCluster}
	if controllers == "" || controllers == ControllersAuto {
		if b.controllers, err = ClusterRunsControllers(ctx, c); err != nil {
			return nil, fmt.Errorf("--kubeconfig %s: %w; say who makes the pods with --controllers %s or %s",
				path, err, ControllersCluster, ControllersHarness)
		}
	}
	return b, nil
}

func (b *kubeconfigBackend) Name() string                 { return BackendKubeconfig }
func (b *kubeconfigBackend) Shared() bool                 { return true }
func (b *kubeconfigBackend) RunsControllers() bool        { return b.controllers }
func (b *kubeconfigBackend) Client() kubernetes.Interface { return b.client }
func (b *kubeconfigBackend) RESTConfig() *rest.Config     { return b.cfg }

// UsedNamespace records a namespace the run puts objects in, and whether
// the run created it (then it is the run's to delete at the end).
func (b *kubeconfigBackend) UsedNamespace(ns string, created bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used == nil {
		b.used = map[string]bool{}
	}
	b.used[ns] = true
	if created {
		b.namespaces = append(b.namespaces, ns)
	}
}

// Reset removes everything labelled with the run, so that the next profile
// starts from the same cluster: pods at once (there may be no kubelet to
// confirm), controllers (first, so that a cluster's own controllers do not
// make their pods again), claims, volumes, storage classes, nodes.
// Namespaces stay: one being deleted cannot take new objects until the
// namespace controller has emptied it.
func (b *kubeconfigBackend) Reset() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sel := metav1.ListOptions{LabelSelector: generate.RunLabel + "=" + b.runID}
	now := metav1.DeleteOptions{GracePeriodSeconds: new(int64)}
	c := b.client
	var errs []error
	keep := func(err error) {
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	// Collections of namespaced objects are deleted namespace by namespace.
	b.mu.Lock()
	var namespaces []string
	for ns := range b.used {
		namespaces = append(namespaces, ns)
	}
	b.mu.Unlock()
	for _, ns := range namespaces {
		keep(c.AppsV1().Deployments(ns).DeleteCollection(ctx, now, sel))
		keep(c.AppsV1().ReplicaSets(ns).DeleteCollection(ctx, now, sel))
		keep(c.AppsV1().StatefulSets(ns).DeleteCollection(ctx, now, sel))
		keep(c.AppsV1().ControllerRevisions(ns).DeleteCollection(ctx, now, sel))
		keep(c.BatchV1().Jobs(ns).DeleteCollection(ctx, now, sel))
		keep(c.CoreV1().Pods(ns).DeleteCollection(ctx, now, sel))
		keep(c.CoreV1().PersistentVolumeClaims(ns).DeleteCollection(ctx, now, sel))
	}
	keep(c.CoreV1().PersistentVolumes().DeleteCollection(ctx, now, sel))
	keep(c.StorageV1().StorageClasses().DeleteCollection(ctx, now, sel))
	keep(c.SchedulingV1().PriorityClasses().DeleteCollection(ctx, now, sel))
	b.mu.Lock()
	b.classes = nil
	b.mu.Unlock()
	keep(c.CoreV1().Nodes().DeleteCollection(ctx, now, sel))
	// Claims and volumes carry protection finalizers that a controller lifts
	// once no pod uses them. These are the run's own, with no pods left: the
	// harness lifts them itself, so the next profile starts clean even where
	// no such controller runs.
	unprotect := []byte(`{"metadata":{"finalizers":null}}`)
	for _, ns := range namespaces {
		if claims, err := c.CoreV1().PersistentVolumeClaims(ns).List(ctx, sel); err == nil {
			for _, pvc := range claims.Items {
				_, err := c.CoreV1().PersistentVolumeClaims(ns).Patch(ctx, pvc.Name, types.MergePatchType, unprotect, metav1.PatchOptions{})
				keep(err)
			}
		}
	}
	if vols, err := c.CoreV1().PersistentVolumes().List(ctx, sel); err == nil {
		for _, pv := range vols.Items {
			_, err := c.CoreV1().PersistentVolumes().Patch(ctx, pv.Name, types.MergePatchType, unprotect, metav1.PatchOptions{})
			keep(err)
		}
	}
	keep(b.waitGone(ctx, namespaces, sel))
	return errors.Join(errs...)
}

// waitGone waits until no pod, claim, volume or node of the run is left.
func (b *kubeconfigBackend) waitGone(ctx context.Context, namespaces []string, sel metav1.ListOptions) error {
	c := b.client
	var left string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, ns := range namespaces {
			if l, err := c.CoreV1().Pods(ns).List(ctx, sel); err != nil || len(l.Items) > 0 {
				left = "pods in " + ns
				return false, nil
			}
			if l, err := c.CoreV1().PersistentVolumeClaims(ns).List(ctx, sel); err != nil || len(l.Items) > 0 {
				left = "claims in " + ns
				return false, nil
			}
		}
		if l, err := c.CoreV1().PersistentVolumes().List(ctx, sel); err != nil || len(l.Items) > 0 {
			left = "volumes"
			return false, nil
		}
		if l, err := c.CoreV1().Nodes().List(ctx, sel); err != nil || len(l.Items) > 0 {
			left = "nodes"
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("the run's %s are still there: %w", left, err)
	}
	return nil
}

// Close resets and then deletes the namespaces the run created.
func (b *kubeconfigBackend) Close() error {
	errs := []error{b.Reset()}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ns := range b.namespaces {
		// Another run (or anyone) may have put objects in it since: it is
		// then theirs too, and stays.
		if b.othersIn(ctx, ns) {
			continue
		}
		if err := b.client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// othersIn reports whether namespace ns holds pods, claims or controller
// objects that are not this run's (or cannot tell).
func (b *kubeconfigBackend) othersIn(ctx context.Context, ns string) bool {
	others := metav1.ListOptions{LabelSelector: generate.RunLabel + "!=" + b.runID, Limit: 1}
	c := b.client
	for _, list := range []func() (int, error){
		func() (int, error) { l, err := c.CoreV1().Pods(ns).List(ctx, others); return lenOf(l, err) },
		func() (int, error) {
			l, err := c.CoreV1().PersistentVolumeClaims(ns).List(ctx, others)
			return lenOf(l, err)
		},
		func() (int, error) { l, err := c.AppsV1().Deployments(ns).List(ctx, others); return lenOf(l, err) },
		func() (int, error) { l, err := c.AppsV1().StatefulSets(ns).List(ctx, others); return lenOf(l, err) },
		func() (int, error) { l, err := c.BatchV1().Jobs(ns).List(ctx, others); return lenOf(l, err) },
	} {
		if n, err := list(); err != nil || n > 0 {
			return true
		}
	}
	return false
}

// lenOf is the number of items of a list, or the error that came instead.
func lenOf[L runtime.Object](l L, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	return meta.LenList(l), nil
}

// Namespaces lists the namespaces the run put objects in, and those it
// created.
func (b *kubeconfigBackend) Namespaces() (used, created []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ns := range b.used {
		used = append(used, ns)
	}
	sort.Strings(used)
	return used, append([]string(nil), b.namespaces...)
}

// PrepareNode adds what a real cluster needs on a synthetic node: KWOK's
// annotation, and the run's taint, so that none of the cluster's own pods
// is scheduled there (only DaemonSets that tolerate every taint are).
func (b *kubeconfigBackend) PrepareNode(n *v1.Node) {
	metav1.SetMetaDataAnnotation(&n.ObjectMeta, KWOKAnnotation, "fake")
	metav1.SetMetaDataLabel(&n.ObjectMeta, generate.RunLabel, b.runID)
	taint := b.taint()
	if !slices.ContainsFunc(n.Spec.Taints, func(t v1.Taint) bool { return t.MatchTaint(&taint) }) {
		n.Spec.Taints = append(n.Spec.Taints, taint)
	}
}

// taint is on each of the run's nodes on a real cluster.
func (b *kubeconfigBackend) taint() v1.Taint {
	return v1.Taint{Key: generate.RunLabel, Value: b.runID, Effect: v1.TaintEffectNoSchedule}
}

// PreparePod keeps a pod of the run on a real cluster to the run's own
// nodes — it tolerates their taint and requires their run label, so the
// in-process scheduler, which sees every node, never binds it to a real
// one — and from preempting: it gets a PriorityClass of the run's own with
// the priority it asked for (its class's, its own, or the cluster's
// default) and PreemptionPolicy Never, so that whatever its priority it can
// never evict a pod the run did not create (the run's nodes may hold
// DaemonSet pods that tolerate every taint). Priorities still order the
// scheduling queue. The API server's priority admission requires the
// policy to come from the class.
func (b *kubeconfigBackend) PreparePod(ctx context.Context, spec *v1.PodSpec) error {
	taint := b.taint()
	if !slices.ContainsFunc(spec.Tolerations, func(t v1.Toleration) bool { return t.ToleratesTaint(&taint) }) {
		spec.Tolerations = append(spec.Tolerations, v1.Toleration{Key: taint.Key, Operator: v1.TolerationOpEqual,
			Value: taint.Value, Effect: taint.Effect})
	}
	ours := v1.NodeSelectorRequirement{Key: generate.RunLabel, Operator: v1.NodeSelectorOpIn, Values: []string{b.runID}}
	if spec.Affinity == nil {
		spec.Affinity = &v1.Affinity{}
	}
	if spec.Affinity.NodeAffinity == nil {
		spec.Affinity.NodeAffinity = &v1.NodeAffinity{}
	}
	na := spec.Affinity.NodeAffinity
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &v1.NodeSelector{}
	}
	required := na.RequiredDuringSchedulingIgnoredDuringExecution
	if len(required.NodeSelectorTerms) == 0 {
		required.NodeSelectorTerms = []v1.NodeSelectorTerm{{}}
	}
	// Terms are ORed: each must require the run's nodes.
	for i := range required.NodeSelectorTerms {
		term := &required.NodeSelectorTerms[i]
		if !slices.ContainsFunc(term.MatchExpressions, func(r v1.NodeSelectorRequirement) bool {
			return r.Key == ours.Key && slices.Equal(r.Values, ours.Values)
		}) {
			term.MatchExpressions = append(term.MatchExpressions, ours)
		}
	}
	class, err := b.neverPreempting(ctx, spec.PriorityClassName, spec.Priority)
	if err != nil {
		return err
	}
	spec.PriorityClassName, spec.Priority, spec.PreemptionPolicy = class, nil, nil
	return nil
}

// neverPreempting returns the run's PriorityClass of the priority a pod
// asks for (by class name, by value, or neither: the cluster's global
// default, else 0) that never preempts, creating it the first time.
func (b *kubeconfigBackend) neverPreempting(ctx context.Context, className string, priority *int32) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.classes == nil {
		b.classes = map[string]string{}
	}
	key := className
	if priority != nil {
		key = fmt.Sprintf("=%d", *priority)
	}
	if name, ok := b.classes[key]; ok {
		return name, nil
	}
	var value int32
	switch {
	case priority != nil:
		value = *priority
	case className != "":
		pc, err := b.client.SchedulingV1().PriorityClasses().Get(ctx, className, metav1.GetOptions{})
		if err != nil {
			return "", fmt.Errorf("priorityClassName %s: %w", className, err)
		}
		value = pc.Value
	default:
		classes, err := b.client.SchedulingV1().PriorityClasses().List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", fmt.Errorf("listing priority classes for the cluster's default: %w", err)
		}
		for _, pc := range classes.Items {
			if pc.GlobalDefault {
				value = pc.Value
			}
		}
	}
	name := fmt.Sprintf("%s-%d", b.runID, value)
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{generate.RunLabel: b.runID}},
		Value: value, PreemptionPolicy: ptr.To(v1.PreemptNever),
		Description: "placer-bench run " + b.runID + ": its pods' priority, without preemption"}
	if _, err := b.client.SchedulingV1().PriorityClasses().Create(ctx, pc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("creating priority class %s: %w", name, err)
	}
	b.classes[key] = name
	return name, nil
}
