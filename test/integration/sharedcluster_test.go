package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/internal/testfile"
	"github.com/placer-dev/placer/pkg/localcluster"
)

const runLabel = "bench.placer.dev/run"

// TestBenchOnASharedCluster runs the harness with --backend kubeconfig on
// the cluster of `placer-bench cluster up` (pkg/localcluster: its own nodes,
// the real Deployment, StatefulSet and Job controllers, the garbage
// collector, a scheduler, and pods of its own), twice at once, with a
// workload whose pods have a priority and whose StatefulSet has claims. The
// cluster's controllers make the pods (the harness only creates the
// controller objects); no harness pod is ever bound to a node its run did
// not create; nothing that was there before is changed or deleted; nothing
// of either run is left.
func TestBenchOnASharedCluster(t *testing.T) {
	bin := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	ctx := context.Background()
	opts := localcluster.DefaultOptions()
	opts.TempDir = t.TempDir()
	lc, err := localcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lc.Stop() })
	client := kubernetes.NewForConfigOrDie(lc.Config)

	// The cluster's own: a priority class its workloads use, and a
	// Deployment its scheduler placed.
	if _, err := client.SchedulingV1().PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{
		ObjectMeta: metav1.ObjectMeta{Name: "important"}, Value: 1000}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "existing"}
	if _, err := client.AppsV1().Deployments("default").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "existing"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](4), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: v1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: v1.PodSpec{
				SchedulerName: lc.SchedulerNames[0], PriorityClassName: "important",
				Containers: []v1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10.1",
					Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m")}}}}}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := poll(ctx, func(ctx context.Context) (bool, error) {
		pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		running := 0
		for _, p := range pods.Items {
			if p.Status.Phase == v1.PodRunning {
				running++
			}
		}
		return err == nil && running == 4, nil
	}); err != nil {
		t.Fatalf("the cluster's own Deployment is not running: %v", err)
	}
	before := clusterState(t, client)

	// Every binding of a harness pod, as it happens: the node must be one
	// its run made (the run's nodes are named after it).
	var mu sync.Mutex
	var strays []string
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = runLabel
	}))
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	_, _ = factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{UpdateFunc: func(_, obj any) {
		pod := obj.(*v1.Pod)
		if node := pod.Spec.NodeName; node != "" && !strings.HasPrefix(node, pod.Labels[runLabel]+"-") {
			mu.Lock()
			strays = append(strays, fmt.Sprintf("%s/%s (run %s) on %s", pod.Namespace, pod.Name, pod.Labels[runLabel], node))
			mu.Unlock()
		}
	}})
	factory.Start(watchCtx.Done())
	factory.WaitForCacheSync(watchCtx.Done())

	dir := t.TempDir()
	file := testfile.Write(t, dir, "shared.yaml", workloadYAML("shared", 4, `cluster:
  zones: 3
  nodeGroups: [{name: pool, count: 3, capacity: {cpu: "8", memory: 32Gi}}]
workloads:
- {name: web, kind: Deployment, replicas: 4, pod: {requests: {cpu: 500m}, priorityClassName: important}}
- {name: db, kind: StatefulSet, replicas: 3, pod: {requests: {cpu: "1"}}, volumeClaims: [{name: data, storageClassName: zonal, size: 1Gi}]}
- {name: batch, kind: Job, replicas: 2, pod: {requests: {cpu: 250m}}}
ops:
- op: createNodes
- op: createWorkloads
- op: barrier
- op: scale
  workload: web
  replicas: 6
- op: barrier
`))
	// Two runs at once.
	var wg sync.WaitGroup
	outs := make([]string, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := benchCommand(bin, "run", "-f", file, "--backend", "kubeconfig", "--kubeconfig", lc.KubeconfigPath,
				"--profile", "placer", "--out", filepath.Join(dir, fmt.Sprint("run", i)), "--log-file", filepath.Join(dir, fmt.Sprint("log", i))).CombinedOutput()
			outs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("run %d: %v\n%s", i, errs[i], outs[i])
		}
		rep := readReport[struct {
			Runs [][]struct{ Pods, Scheduled int } `json:"runs"`
		}](t, filepath.Join(dir, fmt.Sprint("run", i)))
		// 4 web + 3 db + 2 batch, then 2 more web: every pod made by the
		// cluster's controllers, each once, all scheduled.
		if r := rep.Runs[0][0]; r.Pods != 11 || r.Scheduled != 11 {
			t.Errorf("run %d: %d pods, %d scheduled; want 11 made by the controllers, all scheduled\n%s", i, r.Pods, r.Scheduled, outs[i])
		}
	}
	mu.Lock()
	if len(strays) > 0 {
		t.Errorf("harness pods bound to nodes their run did not make: %v", strays)
	}
	mu.Unlock()

	after := clusterState(t, client)
	if before != after {
		t.Errorf("the cluster's own objects changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if left := runObjects(t, client); left != "" {
		t.Errorf("left by the runs: %s", left)
	}
}

// clusterState lists the objects that are not a run's, with what a run
// could change of them.
func clusterState(t *testing.T, c kubernetes.Interface) string {
	t.Helper()
	ctx := context.Background()
	notRuns := metav1.ListOptions{LabelSelector: "!" + runLabel}
	var lines []string
	pods, err := c.CoreV1().Pods("").List(ctx, notRuns)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		lines = append(lines, fmt.Sprintf("pod %s/%s %s on %s %s", p.Namespace, p.Name, p.UID, p.Spec.NodeName, p.Status.Phase))
	}
	nodes, err := c.CoreV1().Nodes().List(ctx, notRuns)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		lines = append(lines, fmt.Sprintf("node %s %s labels %v taints %v unschedulable %v", n.Name, n.UID, n.Labels, n.Spec.Taints, n.Spec.Unschedulable))
	}
	classes, err := c.SchedulingV1().PriorityClasses().List(ctx, notRuns)
	if err != nil {
		t.Fatal(err)
	}
	for _, pc := range classes.Items {
		lines = append(lines, fmt.Sprintf("priorityclass %s %s %d", pc.Name, pc.UID, pc.Value))
	}
	storage, err := c.StorageV1().StorageClasses().List(ctx, notRuns)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range storage.Items {
		lines = append(lines, fmt.Sprintf("storageclass %s %s", sc.Name, sc.UID))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// runObjects names what any run left: objects with the run label, and
// namespaces a run made.
func runObjects(t *testing.T, c kubernetes.Interface) string {
	t.Helper()
	ctx := context.Background()
	runs := metav1.ListOptions{LabelSelector: runLabel}
	var left []string
	count := func(kind string, n int, err error) {
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			left = append(left, fmt.Sprintf("%d %s", n, kind))
		}
	}
	pods, err := c.CoreV1().Pods("").List(ctx, runs)
	count("pods", len(pods.Items), err)
	claims, err := c.CoreV1().PersistentVolumeClaims("").List(ctx, runs)
	count("claims", len(claims.Items), err)
	volumes, err := c.CoreV1().PersistentVolumes().List(ctx, runs)
	count("volumes", len(volumes.Items), err)
	nodes, err := c.CoreV1().Nodes().List(ctx, runs)
	count("nodes", len(nodes.Items), err)
	classes, err := c.SchedulingV1().PriorityClasses().List(ctx, runs)
	count("priority classes", len(classes.Items), err)
	deployments, err := c.AppsV1().Deployments("").List(ctx, runs)
	count("deployments", len(deployments.Items), err)
	sets, err := c.AppsV1().StatefulSets("").List(ctx, runs)
	count("statefulsets", len(sets.Items), err)
	replicaSets, err := c.AppsV1().ReplicaSets("").List(ctx, runs)
	count("replicasets", len(replicaSets.Items), err)
	jobs, err := c.BatchV1().Jobs("").List(ctx, runs)
	count("jobs", len(jobs.Items), err)
	// A namespace being deleted is gone for this purpose.
	namespaces, err := c.CoreV1().Namespaces().List(ctx, runs)
	live := 0
	for _, ns := range namespaces.Items {
		if ns.DeletionTimestamp == nil {
			live++
		}
	}
	count("namespaces", live, err)
	return strings.Join(left, ", ")
}
