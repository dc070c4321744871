package upstream

import (
	"context"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/placer-dev/placer/pkg/bench/result"
	"github.com/placer-dev/placer/pkg/bench/runner"
	"github.com/placer-dev/placer/pkg/sim"
)

// nodeTemplate is a node as scheduler_perf's templates write one: 4 cores,
// its capacity only, which the API's defaults copy into allocatable.
const nodeTemplate = `apiVersion: v1
kind: Node
metadata:
  generateName: perf-node-
status:
  capacity: {pods: "110", cpu: "4", memory: 32Gi}
  conditions: [{type: Ready, status: "True"}]
`

// planOf plans the only workload of dir/config.yaml.
func planOf(t *testing.T, dir string) *Plan {
	t.Helper()
	f, c, w, _ := loadSelected(t, dir, "")
	plan, err := f.Plan(c, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// runOnMemory runs plan with upstream's default profile on a memory
// backend of its own, closed when the test ends.
func runOnMemory(t *testing.T, plan *Plan, opts Options) (*result.Result, *runner.Profile, sim.Backend) {
	t.Helper()
	profile, err := runner.ResolveProfile("default")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	backend, err := sim.NewBackend(ctx, sim.BackendMemory, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backend.Close() })
	res, err := Run(ctx, plan, profile, backend, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res, profile, backend
}

// TestRunMemory runs a case using every supported op on the memory backend
// and checks what it made and what it measured.
func TestRunMemory(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"pod.yaml":  podTemplate,
		"node.yaml": nodeTemplate,
		"statefulset.yaml": `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: registry.k8s.io/pause:3.10.1}]
`,
		// The UID is the StatefulSet's, which only the backend knows: the
		// harness fills it in by name, as the controller would have.
		"db-pod.yaml": `apiVersion: v1
kind: Pod
metadata:
  name: db-{{.Index}}
  labels: {app: db, apps.kubernetes.io/pod-index: "{{.Index}}"}
  ownerReferences:
  - {apiVersion: apps/v1, kind: StatefulSet, name: db, uid: filled-in-by-the-harness, controller: true}
spec:
  schedulerName: somebody-else
  containers:
  - name: db
    image: registry.k8s.io/pause:3.10.1
    resources:
      requests: {cpu: "1", memory: 1Gi}
`,
		"pv.yaml": `apiVersion: v1
kind: PersistentVolume
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  csi: {driver: ebs.csi.aws.com}
`,
		"pvc.yaml": `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  annotations: {pv.kubernetes.io/bind-completed: "true"}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`,
		"service.yaml": `apiVersion: v1
kind: Service
metadata:
  generateName: churn-
spec:
  ports: [{port: 80}]
`,
		"config.yaml": `- name: Everything
  defaultPodTemplatePath: pod.yaml
  workloadTemplate:
  - opcode: createNodes
    countParam: $nodes
    nodeTemplatePath: node.yaml
    labelNodePrepareStrategy:
      labelKey: topology.kubernetes.io/zone
      labelValues: [zone-a, zone-b, zone-c]
  - opcode: createNodes
    count: 2
    nodeAllocatableStrategy:
      nodeAllocatable: {attachable-volumes-csi-ebs.csi.aws.com: "39"}
      csiNodeAllocatable: {ebs.csi.aws.com: {count: 39}}
  - opcode: createNodes
    count: 1
    uniqueNodeLabelStrategy: {labelKey: perf.placer.dev/unique}
  - opcode: createNamespaces
    prefix: sched
    count: 2
  - opcode: createAny
    templatePath: statefulset.yaml
    namespace: sched-0
  - opcode: createPods
    count: 3
    namespace: sched-0
    podTemplatePath: db-pod.yaml
  - opcode: createPods
    count: 4
    namespace: sched-1
    skipWaitToCompletion: true
    persistentVolumeTemplatePath: pv.yaml
    persistentVolumeClaimTemplatePath: pvc.yaml
  - opcode: barrier
  - opcode: churn
    mode: recreate
    number: 1
    intervalMilliseconds: 20
    templatePaths: [service.yaml]
  - opcode: startCollectingMetrics
    name: measured
    namespaces: [measure]
  - opcode: createPods
    countParam: $measurePods
    namespace: measure
  - opcode: sleep
    duration: 50ms
  - opcode: stopCollectingMetrics
  - opcode: deletePods
    namespace: sched-1
  - opcode: createPodSets
    count: 2
    namespacePrefix: set
    createPodsOp: {opcode: createPods, count: 3, skipWaitToCompletion: true}
  - opcode: barrier
    stageRequirement: Attempted
  workloads:
  - name: small
    params: {nodes: 6, measurePods: 20}
`,
	})
	plan := planOf(t, dir)
	if len(plan.Steps) != 17 {
		t.Fatalf("%d steps, want 17 (createPodSets unrolled into 2)", len(plan.Steps))
	}
	ctx := context.Background()
	res, profile, backend := runOnMemory(t, plan, Options{RunID: "test", WaitTimeout: 20 * time.Second})

	// 3 db + 4 with volumes + 20 measured + 2×3 pod sets.
	if res.Pods != 33 || res.Scheduled != 33 {
		t.Errorf("pods %d, scheduled %d; want 33 and 33", res.Pods, res.Scheduled)
	}
	if res.Latency.Count != 20 {
		t.Errorf("latency covers %d pods, want the 20 created in the collection window", res.Latency.Count)
	}
	if len(res.Phases) != 17 {
		t.Errorf("%d phases, want one per step", len(res.Phases))
	}
	c2 := backend.Client()
	nodes, err := c2.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	zones := map[string]int{}
	unique := 0
	for _, n := range nodes.Items {
		if n.Labels["perf.placer.dev/unique"] != "" {
			unique++
		}
		if n.Labels[v1.LabelHostname] != n.Name {
			t.Errorf("node %s: hostname label %q", n.Name, n.Labels[v1.LabelHostname])
		}
		if len(n.Status.Allocatable) == 0 {
			t.Errorf("node %s has no allocatable: the API's defaults were not applied", n.Name)
		}
		zones[n.Labels[v1.LabelTopologyZone]]++
	}
	if len(nodes.Items) != 9 || zones["zone-a"] != 2 || zones["zone-b"] != 2 || zones["zone-c"] != 2 || unique != 1 {
		t.Errorf("%d nodes over zones %v, %d with a unique label; want 9, two in each of zone-a, zone-b, zone-c, 1", len(nodes.Items), zones, unique)
	}
	if csi, err := c2.StorageV1().CSINodes().List(ctx, metav1.ListOptions{}); err != nil || len(csi.Items) != 2 {
		t.Errorf("CSINodes: %v, %v; want 2", csi, err)
	}

	sts, err := c2.AppsV1().StatefulSets("sched-0").Get(ctx, "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := c2.CoreV1().Pods("sched-0").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(db.Items) != 3 {
		t.Fatalf("%d pods in sched-0, want 3", len(db.Items))
	}
	for _, p := range db.Items {
		if ref := metav1.GetControllerOf(&p); ref == nil || ref.UID != sts.UID {
			t.Errorf("pod %s: controller %v, want the StatefulSet's UID %s", p.Name, ref, sts.UID)
		}
		if p.Spec.SchedulerName != profile.SchedulerName {
			t.Errorf("pod %s asks for scheduler %q, want the profile's %q", p.Name, p.Spec.SchedulerName, profile.SchedulerName)
		}
	}
	ordinals := 0
	for _, pl := range res.Placements() {
		if pl.OwnerKind == "StatefulSet" && pl.OwnerName == "db" && pl.Ordinal != nil {
			ordinals++
		}
	}
	if ordinals != 3 {
		t.Errorf("%d placements of StatefulSet db with an ordinal, want 3", ordinals)
	}

	claims, err := c2.CoreV1().PersistentVolumeClaims("sched-1").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(claims.Items) != 4 {
		t.Errorf("%d claims in sched-1, want 4", len(claims.Items))
	}
	for _, pvc := range claims.Items {
		if pvc.Spec.VolumeName != "sched-1-vol-"+pvc.Name[len("pvc-"):] || pvc.Status.Phase != v1.ClaimBound {
			t.Errorf("claim %s: volume %q, phase %s; want sched-1-vol-<i>, Bound", pvc.Name, pvc.Spec.VolumeName, pvc.Status.Phase)
		}
	}
	// deletePods deleted sched-1's bound pods gracefully; the memory
	// backend removes them once its simulated kubelet has stopped them.
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		left, err := c2.CoreV1().Pods("sched-1").List(ctx, metav1.ListOptions{})
		return err == nil && len(left.Items) == 0, nil
	})
	if err != nil {
		t.Errorf("the pods of sched-1 are still there after deletePods: %v", err)
	}
	for _, ns := range []string{"namespace-8", "set-0", "set-1", "measure"} {
		if _, err := c2.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			t.Errorf("namespace %s: %v", ns, err)
		}
	}
}
