// Package generate turns a workload file into Kubernetes objects: nodes for
// its node groups and, for each workload, the objects its controller and the
// controller's pods would be (owner references, pod-template-hash, ordinal
// names and the pod-index label, one claim per StatefulSet replica per
// template). Generation is deterministic: the same file, seed and run ID give
// the same objects, names and UIDs.
package generate

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/pkg/bench/workload"
)

// Labels the harness puts on what it creates, so that a run's objects can be
// told apart from a real cluster's and removed afterwards.
const (
	RunLabel      = "bench.placer.dev/run"
	GroupLabel    = "bench.placer.dev/node-group"
	WorkloadLabel = "bench.placer.dev/workload"
	ZoneLabel     = "topology.kubernetes.io/zone"
	HostnameLabel = "kubernetes.io/hostname"
)

// defaultPods is a node's pod capacity when its group gives none (kubelet's
// default); the workload's object ceiling counts with it too.
const defaultPods = workload.DefaultNodePods

// Generator makes a run's objects.
type Generator struct {
	file  *workload.File
	runID string
	rng   *rand.Rand
	// NodePrefix starts every node's name: on a cluster other runs share,
	// the run's ID, so that two runs' nodes never clash.
	NodePrefix string
}

// New returns a generator for a file, a run ID (the value of RunLabel), and
// the file's seed.
func New(f *workload.File, runID string) *Generator {
	seed := uint64(f.Seed)
	return &Generator{file: f, runID: runID, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// uid is a deterministic UUID-shaped ID. Backends that let an API server
// assign UIDs map these to the server's when they set owner references.
func (g *Generator) uid() types.UID {
	a, b := g.rng.Uint64(), g.rng.Uint64()
	return types.UID(fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff))
}

// suffix is the 5-character random suffix controllers give pod names.
func (g *Generator) suffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// Nodes returns the nodes of the named groups (all groups when none are
// named), in file order. Node i of a group is in the group's (or the
// cluster's) zones round robin.
func (g *Generator) Nodes(groups ...string) []*v1.Node {
	want := map[string]bool{}
	for _, n := range groups {
		want[n] = true
	}
	var out []*v1.Node
	for _, grp := range g.file.Cluster.NodeGroups {
		if len(want) > 0 && !want[grp.Name] {
			continue
		}
		zones := grp.Zones
		if len(zones) == 0 {
			zones = g.file.Cluster.Zones
		}
		alloc := grp.Capacity.DeepCopy()
		if _, ok := alloc[v1.ResourcePods]; !ok {
			alloc[v1.ResourcePods] = *resource.NewQuantity(defaultPods, resource.DecimalSI)
		}
		for i := range grp.Count.Value {
			name := fmt.Sprintf("%s%s-%d", g.NodePrefix, grp.Name, i)
			labels := map[string]string{RunLabel: g.runID, GroupLabel: grp.Name, HostnameLabel: name, ZoneLabel: zones[i%len(zones)]}
			for k, v := range grp.Labels {
				labels[k] = v
			}
			out = append(out, &v1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: name, UID: g.uid(), Labels: labels},
				Spec:       v1.NodeSpec{Taints: append([]v1.Taint(nil), grp.Taints...)},
				Status: v1.NodeStatus{
					Capacity: alloc.DeepCopy(), Allocatable: alloc.DeepCopy(),
					Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue, Reason: "KubeletReady"}},
					Phase:      v1.NodeRunning,
				},
			})
		}
	}
	return out
}

// Instance is one workload instance: its controller object (nil for bare
// pods), the claims of its replicas, and its pods in creation order.
type Instance struct {
	Workload *workload.Workload
	Name     string
	// Owner is the Deployment, StatefulSet or Job; nil for kind Pod.
	Owner runtime.Object
	// ReplicaSet is a Deployment's ReplicaSet, owner of its pods.
	ReplicaSet *appsv1.ReplicaSet
	Claims     []*v1.PersistentVolumeClaim
	Pods       []*v1.Pod
}

// Workloads returns the instances of the named workloads (all when none are
// named), in file order. schedulerName is set on pods that do not pin one.
func (g *Generator) Workloads(schedulerName string, names ...string) []*Instance {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []*Instance
	for i := range g.file.Workloads {
		w := &g.file.Workloads[i]
		if len(want) > 0 && !want[w.Name] {
			continue
		}
		for k := range w.Count.Value {
			name := w.Name
			if w.Count.Value > 1 {
				name = fmt.Sprintf("%s-%d", w.Name, k)
			}
			out = append(out, g.instance(w, name, schedulerName))
		}
	}
	return out
}

func (g *Generator) instance(w *workload.Workload, name, schedulerName string) *Instance {
	inst := &Instance{Workload: w, Name: name}
	selector := map[string]string{"app": name}
	replicas := w.Replicas.Value
	meta := func(n string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: n, Namespace: w.Namespace, UID: g.uid(),
			Labels: map[string]string{RunLabel: g.runID, WorkloadLabel: w.Name, "app": name}}
	}
	switch w.Kind {
	case workload.KindDeployment:
		d := &appsv1.Deployment{TypeMeta: typeMeta("apps/v1", "Deployment"), ObjectMeta: meta(name),
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To(int32(replicas)), Selector: &metav1.LabelSelector{MatchLabels: selector}}}
		hash := templateHash(name)
		rs := &appsv1.ReplicaSet{TypeMeta: typeMeta("apps/v1", "ReplicaSet"), ObjectMeta: meta(name + "-" + hash),
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(int32(replicas)),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name, appsv1.DefaultDeploymentUniqueLabelKey: hash}}}}
		rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
		rs.OwnerReferences = []metav1.OwnerReference{controllerRef(d.TypeMeta, d.ObjectMeta)}
		d.Spec.Template = g.template(w, name, schedulerName)
		rs.Spec.Template = *d.Spec.Template.DeepCopy()
		rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
		inst.Owner, inst.ReplicaSet = d, rs
		for range replicas {
			inst.Pods = append(inst.Pods, g.podOf(w, rs.Name+"-"+g.suffix(), rs.Spec.Template, controllerRef(rs.TypeMeta, rs.ObjectMeta)))
		}
	case workload.KindStatefulSet:
		ss := &appsv1.StatefulSet{TypeMeta: typeMeta("apps/v1", "StatefulSet"), ObjectMeta: meta(name),
			Spec: appsv1.StatefulSetSpec{Replicas: ptr.To(int32(replicas)), ServiceName: name,
				Selector: &metav1.LabelSelector{MatchLabels: selector}, Template: g.template(w, name, schedulerName)}}
		for _, c := range w.VolumeClaims {
			ss.Spec.VolumeClaimTemplates = append(ss.Spec.VolumeClaimTemplates, v1.PersistentVolumeClaim{
				ObjectMeta: metav1.ObjectMeta{Name: c.Name}, Spec: claimSpec(c)})
		}
		inst.Owner = ss
		for i := range replicas {
			inst.add(g.StatefulSetReplica(inst, i))
		}
	case workload.KindJob:
		job := &batchv1.Job{TypeMeta: typeMeta("batch/v1", "Job"), ObjectMeta: meta(name),
			Spec: batchv1.JobSpec{Parallelism: ptr.To(int32(replicas)), Completions: ptr.To(int32(replicas)),
				Template: g.template(w, name, schedulerName)}}
		job.Spec.Template.Spec.RestartPolicy = v1.RestartPolicyNever
		inst.Owner = job
		for range replicas {
			tmpl := *job.Spec.Template.DeepCopy()
			tmpl.Labels["job-name"] = name
			inst.Pods = append(inst.Pods, g.podOf(w, name+"-"+g.suffix(), tmpl, controllerRef(job.TypeMeta, job.ObjectMeta)))
		}
	default: // workload.KindPod
		tmpl := g.template(w, name, schedulerName)
		for i := range replicas {
			inst.Pods = append(inst.Pods, g.podOf(w, fmt.Sprintf("%s-%d", name, i), tmpl, metav1.OwnerReference{}))
		}
	}
	return inst
}

// StatefulSetReplica returns replica i of a StatefulSet instance and its
// claims, as the StatefulSet controller makes them: name <set>-<i>, the
// pod-index label, and a claim <template>-<set>-<i> per volume claim
// template. Scale-up and the failure drills use it to recreate a replica
// with the same identity.
func (g *Generator) StatefulSetReplica(inst *Instance, i int) (*v1.Pod, []*v1.PersistentVolumeClaim) {
	ss := inst.Owner.(*appsv1.StatefulSet)
	tmpl := *ss.Spec.Template.DeepCopy()
	tmpl.Labels[appsv1.PodIndexLabel] = strconv.Itoa(i)
	tmpl.Labels[appsv1.StatefulSetPodNameLabel] = fmt.Sprintf("%s-%d", ss.Name, i)
	var claims []*v1.PersistentVolumeClaim
	for _, c := range ss.Spec.VolumeClaimTemplates {
		pvc := &v1.PersistentVolumeClaim{TypeMeta: typeMeta("v1", "PersistentVolumeClaim"),
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%s-%d", c.Name, ss.Name, i), Namespace: ss.Namespace, UID: g.uid(),
				Labels: map[string]string{RunLabel: g.runID, WorkloadLabel: inst.Workload.Name, "app": ss.Name}},
			Spec: *c.Spec.DeepCopy()}
		claims = append(claims, pvc)
		tmpl.Spec.Volumes = append(tmpl.Spec.Volumes, v1.Volume{Name: c.Name, VolumeSource: v1.VolumeSource{
			PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.Name}}})
	}
	pod := g.podOf(inst.Workload, fmt.Sprintf("%s-%d", ss.Name, i), tmpl, controllerRef(ss.TypeMeta, ss.ObjectMeta))
	pod.Spec.Hostname = pod.Name
	pod.Spec.Subdomain = ss.Spec.ServiceName
	return pod, claims
}

func (inst *Instance) add(pod *v1.Pod, claims []*v1.PersistentVolumeClaim) {
	inst.Pods = append(inst.Pods, pod)
	inst.Claims = append(inst.Claims, claims...)
}

func claimSpec(c workload.VolumeClaim) v1.PersistentVolumeClaimSpec {
	return v1.PersistentVolumeClaimSpec{
		AccessModes:      []v1.PersistentVolumeAccessMode{v1.ReadWriteOnce},
		StorageClassName: ptr.To(c.StorageClassName),
		Resources:        v1.VolumeResourceRequirements{Requests: v1.ResourceList{v1.ResourceStorage: c.Size}},
	}
}

// template is the pod template of an instance.
func (g *Generator) template(w *workload.Workload, name, schedulerName string) v1.PodTemplateSpec {
	p := w.Pod
	labels := map[string]string{RunLabel: g.runID, WorkloadLabel: w.Name, "app": name}
	for k, v := range p.Labels {
		labels[k] = v
	}
	limits := p.Limits.DeepCopy()
	for r, q := range p.Requests {
		// Extended resources must be limited to what they request.
		if _, set := limits[r]; !set && isExtended(r) {
			if limits == nil {
				limits = v1.ResourceList{}
			}
			limits[r] = q
		}
	}
	sched := p.SchedulerName
	if sched == "" {
		sched = schedulerName
	}
	spec := v1.PodSpec{
		SchedulerName:     sched,
		Priority:          p.Priority,
		PriorityClassName: p.PriorityClassName,
		NodeSelector:      p.NodeSelector,
		Affinity:          p.Affinity.DeepCopy(),
		Tolerations:       p.Tolerations,
		Containers: []v1.Container{{
			Name: "app", Image: "registry.k8s.io/pause:3.10",
			Resources: v1.ResourceRequirements{Requests: p.Requests.DeepCopy(), Limits: limits},
		}},
	}
	for _, c := range p.TopologySpreadConstraints {
		c = *c.DeepCopy()
		// A constraint without a selector spreads the workload's own pods.
		if c.LabelSelector == nil {
			c.LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}
		}
		spec.TopologySpreadConstraints = append(spec.TopologySpreadConstraints, c)
	}
	return v1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: p.Annotations}, Spec: spec}
}

func (g *Generator) podOf(w *workload.Workload, name string, tmpl v1.PodTemplateSpec, owner metav1.OwnerReference) *v1.Pod {
	pod := &v1.Pod{
		TypeMeta:   typeMeta("v1", "Pod"),
		ObjectMeta: *tmpl.ObjectMeta.DeepCopy(),
		Spec:       *tmpl.Spec.DeepCopy(),
	}
	pod.Name, pod.Namespace, pod.UID = name, w.Namespace, g.uid()
	if owner.Name != "" {
		pod.OwnerReferences = []metav1.OwnerReference{owner}
	}
	return pod
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func controllerRef(tm metav1.TypeMeta, om metav1.ObjectMeta) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: tm.APIVersion, Kind: tm.Kind, Name: om.Name, UID: om.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
}

// templateHash stands in for the Deployment controller's pod-template-hash:
// stable for a name, in its alphabet.
func templateHash(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

func isExtended(r v1.ResourceName) bool {
	switch r {
	case v1.ResourceCPU, v1.ResourceMemory, v1.ResourceEphemeralStorage, v1.ResourcePods:
		return false
	}
	return true
}

// ReplacementPod returns a new pod for an instance, as its controller
// would create one after scale-up or a pod's loss: for a Deployment or Job a
// fresh name from its template, for a StatefulSet the given ordinal with its
// claims' names (the claims themselves outlive pods), for bare pods the
// given index's name.
func (g *Generator) ReplacementPod(inst *Instance, ordinal int) (*v1.Pod, []*v1.PersistentVolumeClaim) {
	w := inst.Workload
	switch o := inst.Owner.(type) {
	case *appsv1.Deployment:
		rs := inst.ReplicaSet
		return g.podOf(w, rs.Name+"-"+g.suffix(), rs.Spec.Template, controllerRef(rs.TypeMeta, rs.ObjectMeta)), nil
	case *appsv1.StatefulSet:
		return g.StatefulSetReplica(inst, ordinal)
	case *batchv1.Job:
		tmpl := *o.Spec.Template.DeepCopy()
		tmpl.Labels["job-name"] = o.Name
		return g.podOf(w, o.Name+"-"+g.suffix(), tmpl, controllerRef(o.TypeMeta, o.ObjectMeta)), nil
	default:
		tmpl := inst.Pods[0]
		pod := g.podOf(w, fmt.Sprintf("%s-%d", inst.Name, ordinal), v1.PodTemplateSpec{ObjectMeta: *tmpl.ObjectMeta.DeepCopy(), Spec: *tmpl.Spec.DeepCopy()}, metav1.OwnerReference{})
		pod.Spec.NodeName = ""
		return pod, nil
	}
}

// FillPod is pod i of fillToFailure's shape: a bare pod named
// fill-<shape>-<i>, its workload label fill-<shape>.
func (g *Generator) FillPod(shape workload.FillShape, i int, namespace, schedulerName string) *v1.Pod {
	w := &workload.Workload{Name: "fill-" + shape.Name, Kind: workload.KindPod, Namespace: namespace,
		Pod: workload.PodShape{Requests: shape.Requests}}
	return g.podOf(w, fmt.Sprintf("%s-%d", w.Name, i), g.template(w, w.Name, schedulerName), metav1.OwnerReference{})
}

// OccupiedLabel marks the pods of other schedulers a node group's occupied
// puts on its nodes, with the group's name. They do not carry RunLabel:
// they are the cluster's, not the run's, and no figure of the run counts
// them as its pods.
const OccupiedLabel = "bench.placer.dev/occupied"

// OccupiedPods returns, for the nodes of groups with occupied, the pods of
// another scheduler bound to them, with their status: occupied.pods pods a
// node, together requesting the node's zone's percent of its cpu and
// memory, moved by up to ±jitter points. Each node draws from its own
// stream (the seed and its name), so that adding occupied to a group
// changes nothing else the generator makes.
func (g *Generator) OccupiedPods(nodes []*v1.Node) []*v1.Pod {
	groups := map[string]*workload.NodeGroup{}
	for i := range g.file.Cluster.NodeGroups {
		grp := &g.file.Cluster.NodeGroups[i]
		groups[grp.Name] = grp
	}
	var out []*v1.Pod
	for _, n := range nodes {
		grp := groups[n.Labels[GroupLabel]]
		if grp == nil || grp.Occupied == nil {
			continue
		}
		o := grp.Occupied
		h := fnv.New64a()
		h.Write([]byte(n.Name))
		rng := rand.New(rand.NewPCG(uint64(g.file.Seed), h.Sum64()))
		pct := o.Percent[n.Labels[ZoneLabel]]
		if o.Jitter > 0 {
			pct += rng.IntN(2*o.Jitter+1) - o.Jitter
		}
		pct = min(max(pct, 0), 100)
		if pct == 0 {
			continue
		}
		alloc := n.Status.Allocatable
		cpu := alloc.Cpu().MilliValue() * int64(pct) / 100 / int64(o.Pods)
		mem := alloc.Memory().Value() * int64(pct) / 100 / int64(o.Pods)
		requests := v1.ResourceList{
			v1.ResourceCPU:    *resource.NewMilliQuantity(cpu, resource.DecimalSI),
			v1.ResourceMemory: *resource.NewQuantity(mem, resource.BinarySI),
		}
		for j := range o.Pods {
			out = append(out, &v1.Pod{
				TypeMeta: typeMeta("v1", "Pod"),
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", n.Name, j), Namespace: workload.OccupiedNamespace,
					Labels: map[string]string{OccupiedLabel: grp.Name}},
				Spec: v1.PodSpec{
					SchedulerName: workload.OccupiedSchedulerName,
					NodeName:      n.Name,
					Containers: []v1.Container{{Name: "app", Image: "registry.k8s.io/pause:3.10",
						Resources: v1.ResourceRequirements{Requests: requests.DeepCopy()}}},
				},
				Status: v1.PodStatus{Phase: v1.PodRunning, Conditions: []v1.PodCondition{
					{Type: v1.PodScheduled, Status: v1.ConditionTrue}, {Type: v1.PodReady, Status: v1.ConditionTrue}}},
			})
		}
	}
	return out
}
