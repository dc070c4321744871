package integration

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/pkg/localcluster"
)

// The tests here run what a real cluster runs: the Deployment, ReplicaSet
// and StatefulSet controllers from k8s.io/kubernetes and nodes that run
// what is bound to them (pkg/localcluster), with the placer-scheduler
// binary and the shipped configuration scheduling. The controllers, not the
// test, decide when pods appear, are replaced, released or deleted.

// realCluster is a local cluster scheduled by the placer-scheduler binary.
type realCluster struct {
	*localcluster.Cluster
	client kubernetes.Interface
	proc   *schedproc.Process
}

// startRealCluster starts zones of nodesPerZone nodes (8 cpus each) with the
// real controllers; prepare (when given) loads or cordons nodes before the
// binary starts with the shipped configuration.
func startRealCluster(t *testing.T, zones, nodesPerZone int, prepare func(c *realCluster)) *realCluster {
	t.Helper()
	opts := localcluster.DefaultOptions()
	opts.Zones, opts.NodesPerZone, opts.TempDir, opts.ExternalScheduler = zones, nodesPerZone, t.TempDir(), true
	lc, err := localcluster.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lc.Stop(); err != nil {
			t.Errorf("stopping the cluster: %v", err)
		}
	})
	c := &realCluster{Cluster: lc, client: kubernetes.NewForConfigOrDie(lc.Config)}
	if prepare != nil {
		prepare(c)
	}
	if _, err := c.client.CoreV1().Namespaces().Create(context.Background(), &v1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "placer-system"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c.proc = schedproc.Start(t, schedproc.ConfigWithKubeconfig(t, shippedConfig(), lc.KubeconfigPath, dir), lc.KubeconfigPath)
	c.proc.WaitHealthy(t, hangGuard)
	return c
}

// nodeZone is the zone of a local cluster's node: <zone>-node-<i>.
func nodeZone(node string) string {
	z, _, _ := strings.Cut(node, "-node-")
	return z
}

// load binds a pod asking for cpu to node, as if another scheduler had
// placed it: it takes room without being a replica of anything.
func (c *realCluster) load(t *testing.T, node, cpu string) {
	t.Helper()
	p := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "load-" + node, Namespace: "default"},
		Spec: v1.PodSpec{NodeName: node, Containers: pause(cpu)}}
	if _, err := c.client.CoreV1().Pods("default").Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (c *realCluster) cordon(t *testing.T, node string) {
	t.Helper()
	n, err := c.client.CoreV1().Nodes().Get(context.Background(), node, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Spec.Unschedulable = true
	if _, err := c.client.CoreV1().Nodes().Update(context.Background(), n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (c *realCluster) createStatefulSet(t *testing.T, ss *appsv1.StatefulSet) {
	t.Helper()
	ss.Namespace = "default"
	ss.Spec.Selector = &metav1.LabelSelector{MatchLabels: ss.Spec.Template.Labels}
	ss.Spec.ServiceName = ss.Name
	if _, err := c.client.AppsV1().StatefulSets("default").Create(context.Background(), ss, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// createParallelSet creates StatefulSet name of r replicas requesting cpu
// each, all created at once (Parallel pod management): the scheduler sees
// them back to back.
func (c *realCluster) createParallelSet(t *testing.T, name string, r int, cpu string) {
	t.Helper()
	c.createStatefulSet(t, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: appsv1.StatefulSetSpec{
		Replicas: ptr.To(int32(r)), PodManagementPolicy: appsv1.ParallelPodManagement, Template: replicaTemplate(name, cpu)}})
}

// waitApp waits until the pods labelled app=<app> that are not terminating
// number want and are all bound, and returns them by name.
func (c *realCluster) waitApp(t *testing.T, app string, want int) map[string]v1.Pod {
	t.Helper()
	var out map[string]v1.Pod
	c.pollApp(t, app, fmt.Sprintf("app %s: want %d bound pods", app, want), func(pods []v1.Pod) (string, bool) {
		out = map[string]v1.Pod{}
		var pending []string
		for _, p := range pods {
			if p.DeletionTimestamp != nil {
				continue
			}
			out[p.Name] = p
			if p.Spec.NodeName == "" {
				pending = append(pending, p.Name+": "+unschedulableMessage(p))
			}
		}
		return fmt.Sprintf("%d pods, pending: %v", len(out), pending), len(out) == want && len(pending) == 0
	})
	return out
}

// pollApp lists the pods labelled app=<app> until done says they are as
// the caller waits for, failing the test with what and done's last account
// of them after hangGuard. A failed list is retried: the API server of a
// real cluster may be briefly unavailable.
func (c *realCluster) pollApp(t *testing.T, app, what string, done func(pods []v1.Pod) (state string, ok bool)) {
	t.Helper()
	var state string
	err := poll(context.Background(), func(ctx context.Context) (bool, error) {
		pods, err := c.client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
		if err != nil {
			return false, nil
		}
		var ok bool
		state, ok = done(pods.Items)
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s; %s", what, state)
	}
}

func unschedulableMessage(p v1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == v1.PodScheduled {
			return c.Message
		}
	}
	return "not tried yet"
}

func zonesOf(pods map[string]v1.Pod) map[string]int {
	out := map[string]int{}
	for _, p := range pods {
		out[nodeZone(p.Spec.NodeName)]++
	}
	return out
}

// checkQuorum fails the test when losing one zone or one node would leave
// fewer than ⌊R/2⌋+1 of the set's R replicas.
func checkQuorum(t *testing.T, name string, pods map[string]v1.Pod) {
	t.Helper()
	r := len(pods)
	q := r/2 + 1
	perNode := map[string]int{}
	for _, p := range pods {
		perNode[p.Spec.NodeName]++
	}
	for z, n := range zonesOf(pods) {
		if r-n < q {
			t.Errorf("%s: losing %s (%d of %d) leaves fewer than the quorum %d; per zone %v", name, z, n, r, q, zonesOf(pods))
		}
	}
	for node, n := range perNode {
		if r-n < q {
			t.Errorf("%s: losing node %s (%d of %d) leaves fewer than the quorum %d", name, node, n, r, q)
		}
	}
}

// TestStatefulSetStartOrdinalThroughTheBinary is issue 15's first case: a
// set of 5 with spec.ordinals.start 5 (pods db-5 .. db-9), whose pods carry
// a soft zone spread constraint of their own (so ZoneSpread steps aside),
// zone-c with room for one replica and zone-b half full. Read relative to
// start, the set ends 2/2/1, not 3/1/1.
func TestStatefulSetStartOrdinalThroughTheBinary(t *testing.T) {
	c := startRealCluster(t, 3, 2, func(c *realCluster) {
		c.load(t, "zone-b-node-0", "8")
		c.load(t, "zone-c-node-0", "8")
		c.load(t, "zone-c-node-1", "6")
	})
	tmpl := replicaTemplate("db", "2")
	tmpl.Spec.TopologySpreadConstraints = []v1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: v1.LabelTopologyZone,
		WhenUnsatisfiable: v1.ScheduleAnyway, LabelSelector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}}}
	c.createStatefulSet(t, &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: appsv1.StatefulSetSpec{
		Replicas: ptr.To(int32(5)), Ordinals: &appsv1.StatefulSetOrdinals{Start: 5}, Template: tmpl}})
	pods := c.waitApp(t, "db", 5)
	var names []string
	for n := range pods {
		names = append(names, n)
	}
	sort.Strings(names)
	if got := strings.Join(names, " "); got != "db-5 db-6 db-7 db-8 db-9" {
		t.Fatalf("pods %s, want db-5 .. db-9", got)
	}
	checkQuorum(t, "db", pods)
	// The first ordinal, db-5, is the primary: a node of its own.
	for n, p := range pods {
		if n != "db-5" && p.Spec.NodeName == pods["db-5"].Spec.NodeName {
			t.Errorf("%s shares the primary db-5's node %s", n, p.Spec.NodeName)
		}
	}
	t.Logf("per zone %v", zonesOf(pods))
}

// TestStatefulSetUnusableZoneThroughTheBinary is issue 15's second case:
// three zones, zone-c cordoned, sets of 3 and 5 under the shipped policy
// ScheduleAnyway. The quorum cannot be protected over the two zones left,
// so every replica is placed anyway, the fewest per zone and one per node,
// each with a QuorumAtRisk warning naming the zones that can take it.
func TestStatefulSetUnusableZoneThroughTheBinary(t *testing.T) {
	c := startRealCluster(t, 3, 3, func(c *realCluster) {
		for i := range 3 {
			c.cordon(t, fmt.Sprintf("zone-c-node-%d", i))
		}
	})
	sets := map[string]int{"etcd": 3, "pg": 5}
	for name, r := range sets {
		c.createParallelSet(t, name, r, "500m")
	}
	for name, r := range sets {
		pods := c.waitApp(t, name, r)
		zones := zonesOf(pods)
		if zones["zone-c"] != 0 || zones["zone-a"]-zones["zone-b"] > 1 || zones["zone-b"]-zones["zone-a"] > 1 {
			t.Errorf("%s per zone %v, want the fewest per usable zone", name, zones)
		}
		perNode := map[string]int{}
		for _, p := range pods {
			perNode[p.Spec.NodeName]++
		}
		for node, n := range perNode {
			if n > 1 {
				t.Errorf("%s: node %s holds %d replicas", name, node, n)
			}
		}
	}
	var warned []string
	err := poll(context.Background(), func(ctx context.Context) (bool, error) {
		evs, err := c.client.EventsV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		warned = nil
		for _, ev := range evs.Items {
			if ev.Reason == "QuorumAtRisk" && strings.Contains(ev.Note, "(zone-a, zone-b)") {
				warned = append(warned, ev.Regarding.Name)
			}
		}
		return len(warned) == 8, nil
	})
	if err != nil {
		t.Errorf("QuorumAtRisk events naming zone-a and zone-b for %v, want all 8 replicas", warned)
	}
}
