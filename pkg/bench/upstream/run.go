package upstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/component-base/metrics/legacyregistry"
	corev1defaults "k8s.io/kubernetes/pkg/apis/core/v1"

	"github.com/placer-dev/placer/pkg/bench/generate"
	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/bench/stats"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
)

// What scheduler_perf's harness does, copied in number so that the two
// harnesses load the API server alike.
const (
	// podWorkers create pods in parallel (test/utils.CreatePod).
	podWorkers = 30
	// waitTimeout bounds each wait for pods (waitUntilPodsScheduledInNamespace).
	waitTimeout = 10 * time.Minute
	// nodeNameRetries: names are generated client-side (nodes' so that the
	// hostname label can carry them); a clash picks another.
	nodeNameRetries = 5
	// throughputInterval is the sampling interval of scheduler_perf's
	// throughput collector.
	throughputInterval = time.Second
)

// Options tune a run.
type Options struct {
	// RunID labels everything the run creates (generate.RunLabel).
	RunID string
	// Progress, when set, is called about once a second while the run
	// waits for pods.
	Progress func(op string, created, bound, unschedulable int)
	// WaitTimeout bounds each wait for pods; 0 means scheduler_perf's 10
	// minutes.
	WaitTimeout time.Duration
}

// window is a metrics collection window: scheduler_perf's collectMetrics
// on a createPods op, or startCollectingMetrics … stopCollectingMetrics.
type window struct {
	namespaces map[string]bool
	selector   labels.Selector
	start, end time.Time
}

func (w *window) covers(pod *v1.Pod) bool {
	return w.namespaces[pod.Namespace] && w.selector.Matches(labels.Set(pod.Labels))
}

// createdObject is an object createAny or churn made, which a shared
// backend's reset does not cover and the run deletes itself.
type createdObject struct {
	kind      *objectKind
	namespace string
	name      string
}

type executor struct {
	plan    *Plan
	profile *runner.Profile
	backend runner.Backend
	client  kubernetes.Interface
	opts    Options
	memory  bool // the memory backend applies no API defaults

	tracker *runner.Tracker
	pods    corelisters.PodLister
	// runSelector selects the run's objects (generate.RunLabel).
	runSelector labels.Selector
	sched       *inprocscheduler.Scheduler

	// pending is scheduler_perf's numPodsScheduledPerNamespace: the pods a
	// barrier waits for, by namespace; a namespace's presence means the run
	// created it.
	pending map[string]int
	mu      sync.Mutex // guards open and zones, which pod creators read
	open    *window
	windows []*window
	zones   map[string]string
	owners  sync.Map // "<kind>/<namespace>/<name>" -> types.UID of createAny objects
	made    []createdObject

	bg    sync.WaitGroup // churn and asynchronous deletes
	bgCtx context.Context
}

// Run runs a planned workload with profile on backend (the caller's to
// close) and measures it. Throughput covers the collection windows, as
// scheduler_perf's does; latency covers the pods created inside one.
func Run(ctx context.Context, p *Plan, profile *runner.Profile, backend runner.Backend, opts Options) (*result.Result, error) {
	e := &executor{plan: p, profile: profile, backend: backend, client: backend.Client(), opts: opts,
		memory:  backend.Name() == runner.BackendMemory,
		tracker: runner.NewTracker(), pending: map[string]int{}, zones: map[string]string{}}
	start := time.Now()
	mem := runner.StartMemorySampler(ctx, 250*time.Millisecond)
	res := &result.Result{Profile: profile.Name, Backend: backend.Name()}
	defer func() { res.PeakHeap, res.PeakRSS = mem.Finish() }()

	// Each profile's scheduler metrics start from zero, as each
	// scheduler_perf workload's do.
	legacyregistry.Reset()
	sched, err := inprocscheduler.Start(ctx, e.client, inprocscheduler.Options{Config: profile.Config, Registry: profile.Registry, RESTConfig: backend.RESTConfig()})
	if err != nil {
		return nil, err
	}
	defer sched.Stop()
	e.sched = sched
	if err := e.watch(); err != nil {
		return nil, err
	}
	if backend.Name() == runner.BackendEmbedded {
		stopControllers, err := startControllers(ctx, backend.RESTConfig(), e.client, sched.Informers)
		if err != nil {
			return nil, err
		}
		defer stopControllers()
	}

	bgCtx, stopBG := context.WithCancel(ctx)
	e.bgCtx = bgCtx
	defer e.cleanup()
	defer e.bg.Wait()
	defer stopBG()
	go e.bindClaims(bgCtx)

	var runErr error
	for _, s := range p.Steps {
		t0 := time.Now()
		err := e.do(ctx, s)
		res.Phases = append(res.Phases, result.PhaseResult{Op: s.Code, Index: s.Index, Duration: time.Since(t0)})
		if err != nil {
			runErr = fmt.Errorf("%s:%d: op %d (%s): %w", p.File.Path, s.Line, s.Index, s.Code, err)
			break
		}
	}
	// A window left open (no stopCollectingMetrics) still reports.
	e.mu.Lock()
	if e.open != nil {
		e.open.end = time.Now()
		e.open = nil
	}
	e.mu.Unlock()
	stopBG()
	e.bg.Wait()
	res.Wall = time.Since(start)
	e.summarize(res)
	hist, err := runner.SchedulerHistograms(profile.SchedulerName)
	if err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("reading the scheduler's metrics: %w", err))
	}
	res.Scheduler = hist
	res.PreemptionAttempts = runner.PreemptionAttempts()
	return res, runErr
}

// summarize fills res from the tracker; throughput is sampled per window,
// from the window's start to its end, over the binds of the pods it covers,
// and the windows' samples pooled.
func (e *executor) summarize(res *result.Result) {
	e.mu.Lock()
	zones := make(map[string]string, len(e.zones))
	for k, v := range e.zones {
		zones[k] = v
	}
	windows := e.windows
	e.mu.Unlock()
	e.tracker.Fill(res, zones)
	var samples []float64
	for _, w := range windows {
		var binds []time.Time
		for _, t := range e.tracker.BindTimes(w.covers) {
			if !t.Before(w.start) && !t.After(w.end) {
				binds = append(binds, t)
			}
		}
		samples = append(samples, stats.ThroughputSamples(w.start, w.end, throughputInterval, binds)...)
	}
	res.Throughput = stats.Summarize(samples)
}

// watch follows the run's pods through the scheduler's own pod informer,
// as scheduler_perf's collectors do (a second watch would cost the API
// server and this process their share): the tracker records binds, and
// the lister answers barriers. The scheduler starts before any pod is
// created, so no event is missed.
func (e *executor) watch() error {
	inf := e.sched.Informers.Core().V1().Pods()
	observe := func(obj any) {
		if pod, ok := obj.(*v1.Pod); ok && pod.Labels[generate.RunLabel] == e.opts.RunID {
			e.tracker.Observe(pod, time.Now())
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: observe, UpdateFunc: func(_, obj any) { observe(obj) },
	}); err != nil {
		return err
	}
	e.pods = inf.Lister()
	e.runSelector = labels.SelectorFromSet(labels.Set{generate.RunLabel: e.opts.RunID})
	return nil
}

// runPods lists the run's pods of a namespace matching sel.
func (e *executor) runPods(ns string, sel labels.Selector) ([]*v1.Pod, error) {
	pods, err := e.pods.Pods(ns).List(sel)
	if err != nil {
		return nil, err
	}
	out := pods[:0:0]
	for _, p := range pods {
		if e.runSelector.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (e *executor) do(ctx context.Context, s *Step) error {
	switch s.Code {
	case OpCreateNodes:
		return e.createNodes(ctx, s)
	case OpCreateNamespaces:
		return e.createNamespaces(ctx, s)
	case OpCreatePods:
		return e.createPods(ctx, s)
	case OpDeletePods:
		return e.deletePods(ctx, s)
	case OpCreateAny:
		return e.createAny(ctx, s)
	case OpChurn:
		return e.churn(ctx, s)
	case OpBarrier:
		return e.barrier(ctx, s.Barrier)
	case OpSleep:
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.Duration):
			return nil
		}
	case OpStartCollectingMetrics:
		sel := labels.SelectorFromSet(s.StartCollecting.LabelSelector)
		return e.startWindow(s.StartCollecting.Namespaces, sel)
	case OpStopCollectingMetrics:
		return e.stopWindow()
	}
	// Plan admits only the ops above.
	return fmt.Errorf("unknown op %q", s.Code)
}

func (e *executor) startWindow(namespaces []string, sel labels.Selector) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.open != nil {
		return errors.New("metrics collection is already running: a window opened before the previous one was stopped")
	}
	w := &window{namespaces: map[string]bool{}, selector: sel, start: time.Now()}
	for _, ns := range namespaces {
		w.namespaces[ns] = true
	}
	e.open = w
	e.windows = append(e.windows, w)
	return nil
}

func (e *executor) stopWindow() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.open == nil {
		return errors.New("stopCollectingMetrics without startCollectingMetrics")
	}
	e.open.end = time.Now()
	e.open = nil
	return nil
}

// measured reports whether an open window covers the pod.
func (e *executor) measured(pod *v1.Pod) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.open != nil && e.open.covers(pod)
}

// label marks an object as the run's, so that a shared backend's reset and
// the run's pod informer find it.
func (e *executor) label(m metav1.Object) {
	l := m.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[generate.RunLabel] = e.opts.RunID
	m.SetLabels(l)
}

// defaultNode is scheduler_perf's node when createNodes names no template.
func defaultNode(prefix string) *v1.Node {
	res := v1.ResourceList{
		v1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
		v1.ResourceCPU:    resource.MustParse("4"),
		v1.ResourceMemory: resource.MustParse("32Gi"),
	}
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix},
		Status: v1.NodeStatus{Capacity: res, Allocatable: res.DeepCopy(), Phase: v1.NodeRunning,
			Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}}},
	}
}

// defaultPod is scheduler_perf's pod when createPods names no template.
func defaultPod() *v1.Pod {
	req := v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m"), v1.ResourceMemory: resource.MustParse("500Mi")}
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "pod-"},
		Spec: v1.PodSpec{Containers: []v1.Container{{
			Name: "pause", Image: "registry.k8s.io/pause:3.10.1",
			Ports:     []v1.ContainerPort{{ContainerPort: 80}},
			Resources: v1.ResourceRequirements{Limits: req, Requests: req.DeepCopy()},
		}}},
	}
}

func (e *executor) createNodes(ctx context.Context, s *Step) error {
	o := s.CreateNodes
	nodes := make([]*v1.Node, s.Count)
	for i := range nodes {
		n := defaultNode(fmt.Sprintf("node-%d-", s.Index))
		if s.NodeTemplate != nil {
			n = &v1.Node{}
			if err := s.NodeTemplate.decodeInto(i, s.Count, n); err != nil {
				return err
			}
		}
		// scheduler_perf's strategies patch each node after creating it; the
		// node is created with the result instead, one request fewer.
		switch {
		case o.LabelNodePrepareStrategy != nil:
			l := o.LabelNodePrepareStrategy
			setLabel(n, l.LabelKey, l.LabelValues[i%len(l.LabelValues)])
		case o.UniqueNodeLabelStrategy != nil:
			setLabel(n, o.UniqueNodeLabelStrategy.LabelKey, string(uuid.NewUUID()))
		case o.NodeAllocatableStrategy != nil:
			if n.Status.Allocatable == nil {
				n.Status.Allocatable = v1.ResourceList{}
			}
			for name, value := range o.NodeAllocatableStrategy.NodeAllocatable {
				q, err := resource.ParseQuantity(value)
				if err != nil {
					return fmt.Errorf("nodeAllocatableStrategy.nodeAllocatable[%s]: %w", name, err)
				}
				n.Status.Allocatable[v1.ResourceName(name)] = q
			}
		}
		e.label(n)
		runner.PrepareNode(e.backend, n)
		if e.memory {
			corev1defaults.SetObjectDefaults_Node(n)
		}
		nodes[i] = n
	}
	var errMu sync.Mutex
	var firstErr error
	workqueue.ParallelizeUntil(ctx, 16, len(nodes), func(i int) {
		if err := e.createNode(ctx, nodes[i], o.NodeAllocatableStrategy); err != nil {
			errMu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			errMu.Unlock()
		}
	})
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.mu.Lock()
	for _, n := range nodes {
		e.zones[n.Name] = n.Labels[generate.ZoneLabel]
	}
	e.mu.Unlock()
	return e.waitSchedulerSees(ctx, nodes)
}

// named runs create with a name for m. Templates use generateName, which
// the memory backend does not implement: the name is chosen here as the API
// server chooses it (the prefix and 5 random characters), again on a clash.
func named(m metav1.Object, create func() error) error {
	generate := m.GetName() == "" && m.GetGenerateName() != ""
	for try := 1; ; try++ {
		if generate {
			m.SetName(m.GetGenerateName() + rand.String(5))
		}
		err := create()
		if err == nil || !generate || !apierrors.IsAlreadyExists(err) || try == nodeNameRetries {
			return err
		}
	}
}

func setLabel(m metav1.Object, k, v string) {
	l := m.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[k] = v
	m.SetLabels(l)
}

// createNode creates a node under a name chosen here (so that the
// kubernetes.io/hostname label carries it, as scheduler_perf does), and its
// CSINode when the strategy asks for one.
func (e *executor) createNode(ctx context.Context, n *v1.Node, alloc *NodeAllocatableStrategy) error {
	generated := n.Name == ""
	var err error
	for range nodeNameRetries {
		if generated {
			n.Name = n.GenerateName + rand.String(5)
		}
		setLabel(n, v1.LabelHostname, n.Name)
		if _, err = e.client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err == nil || !generated || !apierrors.IsAlreadyExists(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("creating node %s: %w", n.Name, err)
	}
	if alloc == nil || len(alloc.CsiNodeAllocatable) == 0 && len(alloc.MigratedPlugins) == 0 {
		return nil
	}
	csi := &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: n.Name,
		Annotations: map[string]string{v1.MigratedPluginsAnnotationKey: strings.Join(alloc.MigratedPlugins, ",")}}}
	for _, driver := range sortedKeys(alloc.CsiNodeAllocatable) {
		csi.Spec.Drivers = append(csi.Spec.Drivers, storagev1.CSINodeDriver{Name: driver, NodeID: n.Name, Allocatable: alloc.CsiNodeAllocatable[driver]})
	}
	e.label(csi)
	if _, err := e.client.StorageV1().CSINodes().Create(ctx, csi, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating CSINode %s: %w", n.Name, err)
	}
	e.remember(objectKinds["CSINode"], "", n.Name)
	return nil
}

// waitSchedulerSees waits until the scheduler's node informer holds the
// nodes: a pod tried before they arrive would meet a partial cluster.
func (e *executor) waitSchedulerSees(ctx context.Context, nodes []*v1.Node) error {
	lister := e.sched.Informers.Core().V1().Nodes().Lister()
	return wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, waitTimeout, true, func(context.Context) (bool, error) {
		for _, n := range nodes {
			if _, err := lister.Get(n.Name); err != nil {
				return false, nil
			}
		}
		return true, nil
	})
}

// ensureNamespace creates a namespace the run has not made yet, as
// scheduler_perf's createNamespaceIfNotPresent does.
func (e *executor) ensureNamespace(ctx context.Context, ns string) error {
	if _, ok := e.pending[ns]; ok {
		return nil
	}
	if err := e.createNamespace(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	e.pending[ns] = 0
	return nil
}

func (e *executor) createNamespace(ctx context.Context, ns *v1.Namespace) error {
	e.label(ns)
	if e.memory {
		corev1defaults.SetObjectDefaults_Namespace(ns)
	}
	_, err := e.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", ns.Name, err)
	}
	runner.UsedNamespace(e.backend, ns.Name, err == nil)
	return nil
}

func (e *executor) createNamespaces(ctx context.Context, s *Step) error {
	for i := range s.Count {
		ns := &v1.Namespace{}
		if s.NamespaceTemplate != nil {
			if err := s.NamespaceTemplate.decodeInto(i, s.Count, ns); err != nil {
				return err
			}
		}
		ns.Name = fmt.Sprintf("%s-%d", s.CreateNamespaces.Prefix, i)
		if err := e.createNamespace(ctx, ns); err != nil {
			return err
		}
		if _, ok := e.pending[ns.Name]; !ok {
			e.pending[ns.Name] = 0
		}
	}
	return nil
}

func (e *executor) createPods(ctx context.Context, s *Step) error {
	o := s.CreatePods
	if err := e.ensureNamespace(ctx, s.Namespace); err != nil {
		return err
	}
	if o.CollectMetrics {
		if err := e.startWindow([]string{s.Namespace}, labels.Everything()); err != nil {
			return err
		}
	}
	switch {
	case o.SteadyState:
		if err := e.steadyState(ctx, s); err != nil {
			return err
		}
	default:
		if _, err := e.createPodBatch(ctx, s, 0); err != nil {
			return err
		}
		if o.SkipWaitToCompletion {
			e.pending[s.Namespace] += s.Count
			break
		}
		if err := e.waitPods(ctx, OpCreatePods, s.Namespace, labels.Everything(), s.Count, false); err != nil {
			return err
		}
	}
	if o.CollectMetrics {
		return e.stopWindow()
	}
	return nil
}

// createPodBatch creates the step's Count pods (with their volumes and
// claims when the op has templates for them) on podWorkers workers, and
// returns their UIDs. batch numbers the claims and volumes of a steady
// state's successive batches apart.
func (e *executor) createPodBatch(ctx context.Context, s *Step, batch int) ([]types.UID, error) {
	uids := make([]types.UID, s.Count)
	var mu sync.Mutex
	var firstErr error
	workqueue.ParallelizeUntil(ctx, min(podWorkers, max(s.Count, 1)), s.Count, func(i int) {
		uid, err := e.createPod(ctx, s, i, batch)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		uids[i] = uid
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return uids, ctx.Err()
}

func (e *executor) createPod(ctx context.Context, s *Step, i, batch int) (types.UID, error) {
	pod := defaultPod()
	if s.PodTemplate != nil {
		pod = &v1.Pod{}
		if err := s.PodTemplate.decodeInto(i, s.Count, pod); err != nil {
			return "", err
		}
	}
	pod.Namespace = s.Namespace
	if s.PVCTemplate != nil {
		claim, err := e.createVolume(ctx, s, i, batch)
		if err != nil {
			return "", err
		}
		pod.Spec.Volumes = []v1.Volume{{Name: "vol", VolumeSource: v1.VolumeSource{
			PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}
	}
	e.preparePod(pod)
	at := time.Now()
	var created *v1.Pod
	err := named(pod, func() (err error) {
		created, err = e.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("creating pod %d in %s: %w", i, pod.Namespace, err)
	}
	e.tracker.Created(created.UID, at, e.measured(pod))
	return created.UID, nil
}

// preparePod makes a pod the profile's: its scheduler name (whatever the
// template said, so that profiles compare on the same pods), the run label,
// owner references to createAny objects with the UIDs they got.
func (e *executor) preparePod(pod *v1.Pod) {
	pod.Spec.SchedulerName = e.profile.SchedulerName
	e.label(pod)
	for i, ref := range pod.OwnerReferences {
		if uid, ok := e.owners.Load(ref.Kind + "/" + pod.Namespace + "/" + ref.Name); ok {
			pod.OwnerReferences[i].UID = uid.(types.UID)
		}
	}
	if e.memory {
		corev1defaults.SetObjectDefaults_Pod(pod)
		pod.Spec.SchedulerName = e.profile.SchedulerName
	}
}

// createVolume creates claim pvc-<i> and volume <namespace>-vol-<i> bound to
// each other, as scheduler_perf's CreatePodWithPersistentVolume does.
func (e *executor) createVolume(ctx context.Context, s *Step, i, batch int) (string, error) {
	pvc, pv := &v1.PersistentVolumeClaim{}, &v1.PersistentVolume{}
	if err := s.PVCTemplate.decodeInto(i, s.Count, pvc); err != nil {
		return "", err
	}
	if err := s.PVTemplate.decodeInto(i, s.Count, pv); err != nil {
		return "", err
	}
	id := i + batch*s.Count
	pvc.Name, pvc.Namespace = fmt.Sprintf("pvc-%d", id), s.Namespace
	pv.Name = fmt.Sprintf("%s-vol-%d", s.Namespace, id)
	if src := pv.Spec.PersistentVolumeSource; src.CSI != nil {
		src.CSI.VolumeHandle = pv.Name
	} else if src.AWSElasticBlockStore != nil {
		src.AWSElasticBlockStore.VolumeID = pv.Name
	}
	pv.Spec.ClaimRef = &v1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: s.Namespace, Name: pvc.Name}
	pv.Status.Phase = v1.VolumeBound
	pvc.Spec.VolumeName = pv.Name
	pvc.Status.Phase = v1.ClaimBound
	e.label(pvc)
	e.label(pv)
	if e.memory {
		corev1defaults.SetObjectDefaults_PersistentVolumeClaim(pvc)
		corev1defaults.SetObjectDefaults_PersistentVolume(pv)
	}
	// An API server ignores status on create: it is set separately.
	claims := e.client.CoreV1().PersistentVolumeClaims(s.Namespace)
	created, err := claims.Create(ctx, pvc, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("creating claim %s/%s: %w", s.Namespace, pvc.Name, err)
	}
	created.Status = pvc.Status
	if _, err := claims.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return "", fmt.Errorf("setting the status of claim %s/%s: %w", s.Namespace, pvc.Name, err)
	}
	createdPV, err := e.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("creating volume %s: %w", pv.Name, err)
	}
	createdPV.Status = pv.Status
	if _, err := e.client.CoreV1().PersistentVolumes().UpdateStatus(ctx, createdPV, metav1.UpdateOptions{}); err != nil {
		return "", fmt.Errorf("setting the status of volume %s: %w", pv.Name, err)
	}
	return pvc.Name, nil
}

// steadyState keeps Count pods in the namespace for the step's duration:
// once a batch is all scheduled it is deleted and the next created.
func (e *executor) steadyState(ctx context.Context, s *Step) error {
	deadline := time.Now().Add(s.Duration)
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for batch := 0; ; batch++ {
		uids, err := e.createPodBatch(ctx, s, batch)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if err := e.waitUIDsBound(ctx, uids); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		pods, err := e.runPods(s.Namespace, labels.Everything())
		if err != nil {
			return err
		}
		e.deleteEach(ctx, pods, metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
		if ctx.Err() != nil {
			return nil
		}
	}
}

// waitUIDsBound waits until every pod of uids was seen bound.
func (e *executor) waitUIDsBound(ctx context.Context, uids []types.UID) error {
	want := map[types.UID]bool{}
	for _, u := range uids {
		want[u] = true
	}
	return wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(context.Context) (bool, error) {
		pods, err := e.pods.List(labels.Everything())
		if err != nil {
			return false, err
		}
		n := 0
		for _, p := range pods {
			if want[p.UID] && p.Spec.NodeName != "" {
				n++
			}
		}
		return n == len(want), nil
	})
}

// waitPods waits until at least want pods of the namespace matching sel
// are scheduled (or, with attempted, scheduled or tried): scheduler_perf
// counts every pod in the namespace, not only the op's.
func (e *executor) waitPods(ctx context.Context, op, ns string, sel labels.Selector, want int, attempted bool) error {
	var pending *v1.Pod
	last := time.Time{}
	timeout := e.opts.WaitTimeout
	if timeout <= 0 {
		timeout = waitTimeout
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		if e.opts.Progress != nil && time.Since(last) >= time.Second {
			created, bound, unsched := e.tracker.Progress()
			e.opts.Progress(op, created, bound, unsched)
			last = time.Now()
		}
		pods, err := e.runPods(ns, sel)
		if err != nil {
			return false, err
		}
		done := 0
		pending = nil
		for _, p := range pods {
			switch {
			case p.Spec.NodeName != "":
				done++
			case attempted && isAttempted(p):
				done++
			case pending == nil:
				pending = p
			}
		}
		return done >= want, nil
	})
	if err != nil && pending != nil {
		why := "not tried yet"
		for _, c := range pending.Status.Conditions {
			if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse {
				why = c.Reason + ": " + c.Message
			}
		}
		return fmt.Errorf("waiting for %d pods in namespace %s: at least pod %s is not scheduled (%s): %w", want, ns, pending.Name, why, err)
	}
	if err != nil {
		return fmt.Errorf("waiting for %d pods in namespace %s: %w", want, ns, err)
	}
	if e.opts.Progress != nil {
		created, bound, unsched := e.tracker.Progress()
		e.opts.Progress(op, created, bound, unsched)
	}
	return nil
}

func isAttempted(pod *v1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == v1.PodScheduled {
			return true
		}
	}
	return false
}

func (e *executor) barrier(ctx context.Context, o *BarrierOp) error {
	namespaces := o.Namespaces
	if len(namespaces) == 0 {
		namespaces = sortedKeys(e.pending)
	}
	for _, ns := range namespaces {
		if _, ok := e.pending[ns]; !ok {
			return fmt.Errorf("unknown namespace %s: no op created it", ns)
		}
	}
	sel := labels.SelectorFromSet(o.LabelSelector)
	for _, ns := range namespaces {
		if err := e.waitPods(ctx, OpBarrier, ns, sel, e.pending[ns], o.StageRequirement == StageAttempted); err != nil {
			return err
		}
	}
	if o.StageRequirement == StageScheduled {
		// Nothing is pending in these namespaces any more.
		for _, ns := range namespaces {
			e.pending[ns] = 0
		}
	}
	return nil
}

func (e *executor) deletePods(ctx context.Context, s *Step) error {
	o := s.DeletePods
	pods, err := e.runPods(o.Namespace, labels.SelectorFromSet(o.LabelSelector))
	if err != nil {
		return err
	}
	del := func(ctx context.Context) {
		if o.DeletePodsPerSecond <= 0 {
			e.deleteEach(ctx, pods, metav1.DeleteOptions{})
			return
		}
		tick := time.NewTicker(time.Second / time.Duration(o.DeletePodsPerSecond))
		defer tick.Stop()
		for _, p := range pods {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			_ = e.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
		}
	}
	if o.SkipWaitToCompletion {
		e.bg.Add(1)
		go func() {
			defer e.bg.Done()
			del(e.bgCtx)
		}()
		return nil
	}
	del(ctx)
	return ctx.Err()
}

// deleteEach deletes pods on podWorkers workers. A pod already gone is no
// error; the others are not either: scheduler_perf logs and goes on.
func (e *executor) deleteEach(ctx context.Context, pods []*v1.Pod, opts metav1.DeleteOptions) {
	workqueue.ParallelizeUntil(ctx, podWorkers, len(pods), func(i int) {
		_ = e.client.CoreV1().Pods(pods[i].Namespace).Delete(ctx, pods[i].Name, opts)
	})
}

// createObject creates one object of a template in ns (empty: cluster
// scoped), prepared like the run's other objects.
func (e *executor) createObject(ctx context.Context, t *objectTemplate, index, count int, ns string) (string, error) {
	obj, kind, err := t.decodeObject(index, count)
	if err != nil {
		return "", err
	}
	m := obj.(metav1.Object)
	m.SetNamespace(ns)
	switch o := obj.(type) {
	case *v1.Pod:
		o.Namespace = ns
		e.preparePod(o)
	case *v1.Node:
		if o.Name == "" {
			o.Name = o.GenerateName + rand.String(5)
		}
		setLabel(o, v1.LabelHostname, o.Name)
		e.label(o)
		runner.PrepareNode(e.backend, o)
		if e.memory {
			corev1defaults.SetObjectDefaults_Node(o)
		}
	default:
		e.label(m)
		if e.memory {
			defaultObject(obj)
		}
	}
	var created metav1.Object
	err = named(m, func() (err error) {
		created, err = kind.create(ctx, e.client, ns, obj)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("creating %s from %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, t.path, err)
	}
	kindName := obj.GetObjectKind().GroupVersionKind().Kind
	e.owners.Store(kindName+"/"+ns+"/"+created.GetName(), created.GetUID())
	if n, ok := obj.(*v1.Node); ok {
		e.mu.Lock()
		e.zones[n.Name] = n.Labels[generate.ZoneLabel]
		e.mu.Unlock()
	}
	e.remember(kind, ns, created.GetName())
	return created.GetName(), nil
}

// defaultObject applies the API server's defaults the memory backend lacks,
// for the kinds the scheduler reads fields of.
func defaultObject(obj runtime.Object) {
	switch o := obj.(type) {
	case *v1.PersistentVolume:
		corev1defaults.SetObjectDefaults_PersistentVolume(o)
	case *v1.PersistentVolumeClaim:
		corev1defaults.SetObjectDefaults_PersistentVolumeClaim(o)
	case *v1.Service:
		corev1defaults.SetObjectDefaults_Service(o)
	case *v1.Namespace:
		corev1defaults.SetObjectDefaults_Namespace(o)
	}
}

// remember records an object for deletion at the end on a shared backend.
func (e *executor) remember(kind *objectKind, ns, name string) {
	if !runner.IsShared(e.backend) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.made = append(e.made, createdObject{kind: kind, namespace: ns, name: name})
}

// forget drops a deleted object from the clean-up list.
func (e *executor) forget(ns, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, o := range e.made {
		if o.namespace == ns && o.name == name {
			e.made = append(e.made[:i], e.made[i+1:]...)
			return
		}
	}
}

// cleanup deletes, on a shared backend, what createAny, churn and
// nodeAllocatableStrategy made; the backend's reset removes the rest.
func (e *executor) cleanup() {
	e.mu.Lock()
	made := e.made
	e.made = nil
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, o := range made {
		_ = o.kind.remove(ctx, e.client, o.namespace, o.name)
	}
}

func (e *executor) createAny(ctx context.Context, s *Step) error {
	if s.Namespace != "" {
		if err := e.ensureNamespace(ctx, s.Namespace); err != nil {
			return err
		}
	}
	for i := range s.Count {
		if _, err := e.createObject(ctx, s.AnyTemplate, i, s.Count, s.Namespace); err != nil {
			return err
		}
	}
	return nil
}

// churn starts creating (and in recreate mode deleting) objects in the
// background until the workload ends, as scheduler_perf's churn op does.
func (e *executor) churn(ctx context.Context, s *Step) error {
	if err := e.ensureNamespace(ctx, s.Namespace); err != nil {
		return err
	}
	o := s.Churn
	interval := 500 * time.Millisecond
	if o.IntervalMilliseconds != 0 {
		interval = time.Duration(o.IntervalMilliseconds) * time.Millisecond
	}
	e.bg.Add(1)
	go func() {
		defer e.bg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		ctx := e.bgCtx
		// names[t][k]: the object of template t in slot k (recreate mode);
		// spaces[t]: where template t's objects go.
		names := make([][]string, len(s.ChurnTemplates))
		spaces := make([]string, len(s.ChurnTemplates))
		for t, tmpl := range s.ChurnTemplates {
			names[t] = make([]string, max(o.Number, 1))
			if _, kind, err := tmpl.decodeObject(0, 1); err == nil && kind.namespaced {
				spaces[t] = s.Namespace
			}
		}
		for round := 0; o.Mode == ChurnRecreate || o.Number == 0 || round < o.Number; round++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for t, tmpl := range s.ChurnTemplates {
				slot, ns := round%len(names[t]), spaces[t]
				if o.Mode == ChurnRecreate && names[t][slot] != "" {
					e.removeChurned(ctx, tmpl, ns, names[t][slot])
					names[t][slot] = ""
					continue
				}
				// Errors are dropped, as scheduler_perf drops them: churn is
				// background noise, and a create that fails is retried next round.
				if name, err := e.createObject(ctx, tmpl, round, 0, ns); err == nil {
					names[t][slot] = name
				}
			}
		}
	}()
	return nil
}

func (e *executor) removeChurned(ctx context.Context, t *objectTemplate, ns, name string) {
	_, kind, err := t.decodeObject(0, 1)
	if err != nil {
		return
	}
	if err := kind.remove(ctx, e.client, ns, name); err == nil || apierrors.IsNotFound(err) {
		e.forget(ns, name)
	}
}

// bindClaims completes the binding of a claim once the scheduler has bound
// a volume to it (volume.Spec.ClaimRef), as scheduler_perf's fake
// PersistentVolume controller does: there is no volume controller here.
func (e *executor) bindClaims(ctx context.Context) {
	factory := informers.NewSharedInformerFactoryWithOptions(e.client, 0)
	inf := factory.Core().V1().PersistentVolumes().Informer()
	sync := func(obj any) {
		pv, ok := obj.(*v1.PersistentVolume)
		if !ok || pv.Spec.ClaimRef == nil {
			return
		}
		ref := pv.Spec.ClaimRef
		claims := e.client.CoreV1().PersistentVolumeClaims(ref.Namespace)
		pvc, err := claims.Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil || pvc.Spec.VolumeName != "" {
			return
		}
		pvc.Spec.VolumeName = pv.Name
		metav1.SetMetaDataAnnotation(&pvc.ObjectMeta, "pv.kubernetes.io/bind-completed", "yes")
		_, _ = claims.Update(ctx, pvc, metav1.UpdateOptions{})
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: sync, UpdateFunc: func(_, obj any) { sync(obj) }}); err != nil {
		return
	}
	factory.Start(ctx.Done())
	<-ctx.Done()
	factory.Shutdown()
}
