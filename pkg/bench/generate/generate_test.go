package generate

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/placer-dev/placer/pkg/bench/workload"
)

const file = `apiVersion: bench.placer.dev/v1alpha1
kind: Workload
name: gen
seed: 11
cluster:
  zones: 3
  nodeGroups:
  - name: cpu
    count: 7
    capacity: {cpu: "16", memory: 64Gi}
  - name: gpu
    count: 2
    zones: [zone-c]
    capacity: {cpu: "64", memory: 256Gi, pods: 50, nvidia.com/gpu: 8}
    labels: {accelerator: nvidia}
    taints: [{key: gpu, effect: NoSchedule}]
workloads:
- name: web
  kind: Deployment
  count: 2
  replicas: 3
  pod:
    requests: {cpu: 250m, memory: 512Mi}
    topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule}]
- name: db
  kind: StatefulSet
  replicas: 3
  pod: {requests: {cpu: "1", memory: 4Gi}}
  volumeClaims: [{name: data, storageClassName: zonal, size: 10Gi}, {name: wal, storageClassName: zonal, size: 1Gi}]
- name: train
  kind: Job
  replicas: 2
  pod: {requests: {cpu: "4", nvidia.com/gpu: 1}, tolerations: [{key: gpu, operator: Exists}]}
- name: probe
  kind: Pod
  replicas: 2
  pod: {requests: {cpu: 10m}, schedulerName: default-scheduler}
ops: [{op: createNodes}]
`

func load(t *testing.T, seedLine string) *workload.File {
	t.Helper()
	f, err := workload.Parse([]byte(strings.Replace(file, "seed: 11", seedLine, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNodes(t *testing.T) {
	nodes := New(load(t, "seed: 11"), "run-1").Nodes()
	if len(nodes) != 9 {
		t.Fatalf("%d nodes, want 9", len(nodes))
	}
	perZone := map[string]int{}
	for _, n := range nodes[:7] {
		perZone[n.Labels[ZoneLabel]]++
		if n.Labels[RunLabel] != "run-1" || n.Labels[GroupLabel] != "cpu" || n.Labels[HostnameLabel] != n.Name {
			t.Errorf("labels of %s: %v", n.Name, n.Labels)
		}
		if q := n.Status.Allocatable[v1.ResourcePods]; q.Value() != 110 {
			t.Errorf("%s: default pods %v, want 110", n.Name, q.String())
		}
	}
	if perZone["zone-a"] != 3 || perZone["zone-b"] != 2 || perZone["zone-c"] != 2 {
		t.Errorf("cpu nodes per zone %v, want round robin 3/2/2", perZone)
	}
	gpu := nodes[7]
	if gpu.Name != "gpu-0" || gpu.Labels[ZoneLabel] != "zone-c" || gpu.Labels["accelerator"] != "nvidia" || len(gpu.Spec.Taints) != 1 {
		t.Errorf("gpu node: %+v", gpu.ObjectMeta)
	}
	if q := gpu.Status.Allocatable["nvidia.com/gpu"]; q.Value() != 8 {
		t.Errorf("gpu allocatable %v", gpu.Status.Allocatable)
	}
	if got := New(load(t, "seed: 11"), "r").Nodes("gpu"); len(got) != 2 {
		t.Errorf("Nodes(gpu) = %d nodes", len(got))
	}
}

func TestSameSeedSameObjects(t *testing.T) {
	gen := func(seed string) ([]*v1.Node, []*Instance) {
		g := New(load(t, seed), "run")
		return g.Nodes(), g.Workloads("placer")
	}
	n1, w1 := gen("seed: 11")
	n2, w2 := gen("seed: 11")
	if !reflect.DeepEqual(n1, n2) || !reflect.DeepEqual(w1, w2) {
		t.Error("same file and seed gave different objects")
	}
	_, w3 := gen("seed: 12")
	if w1[0].Pods[0].Name == w3[0].Pods[0].Name && w1[0].Pods[0].UID == w3[0].Pods[0].UID {
		t.Error("another seed gave the same pod names and UIDs")
	}
}

func TestDeploymentLikeItsController(t *testing.T) {
	insts := New(load(t, "seed: 11"), "run").Workloads("placer", "web")
	if len(insts) != 2 || insts[0].Name != "web-0" || insts[1].Name != "web-1" {
		t.Fatalf("instances %v", insts)
	}
	inst := insts[0]
	d := inst.Owner.(*appsv1.Deployment)
	rs := inst.ReplicaSet
	hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if rs.Name != "web-0-"+hash || metav1.GetControllerOf(rs).UID != d.UID {
		t.Errorf("ReplicaSet %s owned by %v", rs.Name, rs.OwnerReferences)
	}
	if len(inst.Pods) != 3 {
		t.Fatalf("%d pods", len(inst.Pods))
	}
	seen := map[string]bool{}
	for _, p := range inst.Pods {
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.Kind != "ReplicaSet" || ref.UID != rs.UID || p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
			t.Errorf("pod %s: owner %v labels %v", p.Name, ref, p.Labels)
		}
		if !strings.HasPrefix(p.Name, rs.Name+"-") || len(p.Name) != len(rs.Name)+6 || seen[p.Name] {
			t.Errorf("pod name %q", p.Name)
		}
		seen[p.Name] = true
		if p.Spec.SchedulerName != "placer" || p.Namespace != "bench" {
			t.Errorf("pod %s scheduler %q namespace %q", p.Name, p.Spec.SchedulerName, p.Namespace)
		}
	}
	// A spread constraint without a selector spreads the workload's own pods.
	c := inst.Pods[0].Spec.TopologySpreadConstraints[0]
	if c.LabelSelector == nil || c.LabelSelector.MatchLabels["app"] != "web-0" {
		t.Errorf("constraint selector %v", c.LabelSelector)
	}
}

func TestStatefulSetLikeItsController(t *testing.T) {
	inst := New(load(t, "seed: 11"), "run").Workloads("placer", "db")[0]
	ss := inst.Owner.(*appsv1.StatefulSet)
	if len(inst.Pods) != 3 || len(inst.Claims) != 6 {
		t.Fatalf("%d pods, %d claims", len(inst.Pods), len(inst.Claims))
	}
	for i, p := range inst.Pods {
		want := "db-" + string(rune('0'+i))
		if p.Name != want || p.Labels[appsv1.PodIndexLabel] != string(rune('0'+i)) || metav1.GetControllerOf(p).UID != ss.UID {
			t.Errorf("pod %d: %s labels %v", i, p.Name, p.Labels)
		}
		var claims []string
		for _, v := range p.Spec.Volumes {
			claims = append(claims, v.PersistentVolumeClaim.ClaimName)
		}
		if strings.Join(claims, ",") != "data-"+want+",wal-"+want {
			t.Errorf("pod %s claims %v", p.Name, claims)
		}
	}
	c := inst.Claims[0]
	if c.Name != "data-db-0" || *c.Spec.StorageClassName != "zonal" || c.Spec.Resources.Requests.Storage().Cmp(resource.MustParse("10Gi")) != 0 {
		t.Errorf("claim %s %+v", c.Name, c.Spec)
	}
}

func TestJobsAndBarePods(t *testing.T) {
	g := New(load(t, "seed: 11"), "run")
	job := g.Workloads("placer", "train")[0]
	if j := job.Owner.(*batchv1.Job); *j.Spec.Parallelism != 2 || j.Spec.Template.Spec.RestartPolicy != v1.RestartPolicyNever {
		t.Errorf("job spec %+v", j.Spec)
	}
	p := job.Pods[0]
	if p.Labels["job-name"] != "train" || metav1.GetControllerOf(p).Kind != "Job" {
		t.Errorf("job pod %s labels %v", p.Name, p.Labels)
	}
	// Extended resources get limits equal to their requests.
	if lim := p.Spec.Containers[0].Resources.Limits["nvidia.com/gpu"]; lim.Value() != 1 {
		t.Errorf("gpu limit %v", p.Spec.Containers[0].Resources.Limits)
	}
	bare := g.Workloads("placer", "probe")[0]
	if bare.Owner != nil || len(bare.Pods) != 2 || bare.Pods[1].Name != "probe-1" || len(bare.Pods[0].OwnerReferences) != 0 {
		t.Errorf("bare pods %+v", bare)
	}
	// A pod that pins its scheduler keeps it.
	if s := bare.Pods[0].Spec.SchedulerName; s != "default-scheduler" {
		t.Errorf("pinned scheduler became %q", s)
	}
}

// Occupied pods: bound, another scheduler's, sized to the zone's percent
// (jitter 0 here) split over the pods of a node; adding them to a group
// changes nothing else the generator makes.
func TestOccupiedPods(t *testing.T) {
	plain := New(load(t, "seed: 11"), "run")
	f := load(t, "seed: 11")
	f.Cluster.NodeGroups[0].Occupied = &workload.Occupied{Percent: map[string]int{"zone-a": 50, "zone-b": 75, "zone-c": 0}, Pods: 2}
	g := New(f, "run")
	nodes := g.Nodes()
	pods := g.OccupiedPods(nodes)
	if !reflect.DeepEqual(nodes, plain.Nodes()) || !reflect.DeepEqual(g.Workloads("placer"), plain.Workloads("placer")) {
		t.Error("occupied changed the nodes or the workloads generated")
	}
	// cpu nodes 0..6 round robin: 3 in zone-a, 2 in zone-b (2 pods each),
	// 2 in zone-c at 0% (none); the gpu group has no occupied.
	if len(pods) != 10 {
		t.Fatalf("%d occupied pods, want 10", len(pods))
	}
	zoneOf := map[string]string{}
	for _, n := range nodes {
		zoneOf[n.Name] = n.Labels[ZoneLabel]
	}
	want := map[string]string{"zone-a": "4", "zone-b": "6"}
	for _, p := range pods {
		cpu := p.Spec.Containers[0].Resources.Requests[v1.ResourceCPU]
		if p.Spec.NodeName == "" || p.Spec.SchedulerName != workload.OccupiedSchedulerName || p.Labels[RunLabel] != "" {
			t.Errorf("pod %s: node %q, scheduler %q, labels %v", p.Name, p.Spec.NodeName, p.Spec.SchedulerName, p.Labels)
		}
		if z := zoneOf[p.Spec.NodeName]; cpu.String() != want[z] {
			t.Errorf("pod %s in %s requests cpu %s, want %s (half of the zone's percent of 16)", p.Name, z, cpu.String(), want[z])
		}
	}
}
