// Package integration drives the placer-scheduler binary, started with the
// configuration files the project ships, against the embedded control plane.
package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/pkg/controlplane"
)

func shippedConfig() string {
	return filepath.Join(schedproc.RepoRoot(), "manifests", "scheduler-config.yaml")
}

// startPlacer starts a control plane, creates the nodes, then starts
// placer-scheduler with the shipped configuration and returns an admin
// client. Nodes come first so that the scheduler's initial cache sync holds
// them all: nodes added later reach it through an informer, with no way for
// a test to know when.
func startPlacer(t *testing.T, nodes ...*v1.Node) (*controlplane.ControlPlane, *schedproc.Process, kubernetes.Interface) {
	t.Helper()
	cp := controlplane.StartForTest(t, controlplane.Options{})
	admin := kubernetes.NewForConfigOrDie(cp.Config)
	// The shipped configuration elects its leader with a Lease in
	// placer-system, the namespace manifests/ installs into.
	if _, err := admin.CoreV1().Namespaces().Create(context.Background(), &v1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: "placer-system"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createNodes(t, admin, nodes...)
	cfg := schedproc.ConfigWithKubeconfig(t, shippedConfig(), cp.KubeconfigPath, t.TempDir())
	proc := schedproc.Start(t, cfg, cp.KubeconfigPath)
	proc.WaitHealthy(t, hangGuard)
	return cp, proc, kubernetes.NewForConfigOrDie(cp.Config)
}

// startWithConfig is startPlacer with a configuration of the test's own
// (its clientConnection.kubeconfig is filled in).
func startWithConfig(t *testing.T, config string, nodes ...*v1.Node) (*controlplane.ControlPlane, *schedproc.Process, kubernetes.Interface) {
	t.Helper()
	cp := controlplane.StartForTest(t, controlplane.Options{})
	createNodes(t, kubernetes.NewForConfigOrDie(cp.Config), nodes...)
	dir := t.TempDir()
	src := filepath.Join(dir, "given.yaml")
	if err := os.WriteFile(src, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	proc := schedproc.Start(t, schedproc.ConfigWithKubeconfig(t, src, cp.KubeconfigPath, dir), cp.KubeconfigPath)
	proc.WaitHealthy(t, hangGuard)
	return cp, proc, kubernetes.NewForConfigOrDie(cp.Config)
}

func node(name string, cpu, mem string, gpus int64) *v1.Node {
	alloc := v1.ResourceList{
		v1.ResourceCPU:    resource.MustParse(cpu),
		v1.ResourceMemory: resource.MustParse(mem),
		v1.ResourcePods:   resource.MustParse("110"),
	}
	if gpus > 0 {
		alloc["nvidia.com/gpu"] = *resource.NewQuantity(gpus, resource.DecimalSI)
	}
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: v1.NodeStatus{
			Capacity: alloc, Allocatable: alloc,
			Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}},
		},
	}
}

func pod(name, scheduler, cpu string, gpus int64) *v1.Pod {
	req := v1.ResourceList{v1.ResourceCPU: resource.MustParse(cpu), v1.ResourceMemory: resource.MustParse("256Mi")}
	if gpus > 0 {
		req["nvidia.com/gpu"] = *resource.NewQuantity(gpus, resource.DecimalSI)
	}
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: v1.PodSpec{
			SchedulerName: scheduler,
			Containers: []v1.Container{{
				Name: "c", Image: "registry.k8s.io/pause:3.10",
				Resources: v1.ResourceRequirements{Requests: req, Limits: gpuLimits(gpus)},
			}},
		},
	}
}

// Extended resources must have limits equal to requests.
func gpuLimits(gpus int64) v1.ResourceList {
	if gpus == 0 {
		return nil
	}
	return v1.ResourceList{"nvidia.com/gpu": *resource.NewQuantity(gpus, resource.DecimalSI)}
}

func createNodes(t *testing.T, c kubernetes.Interface, nodes ...*v1.Node) {
	t.Helper()
	ctx := context.Background()
	for _, n := range nodes {
		created, err := c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Status is ignored on create: set allocatable and Ready separately.
		created.Status = n.Status
		if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func createPods(t *testing.T, c kubernetes.Interface, pods ...*v1.Pod) {
	t.Helper()
	for _, p := range pods {
		if _, err := c.CoreV1().Pods(p.Namespace).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// waitUnschedulable waits for the scheduler to mark the named pod
// unschedulable and returns its reason; it fails the test if the pod is bound.
func waitUnschedulable(t *testing.T, c kubernetes.Interface, name string) string {
	t.Helper()
	var message string
	err := poll(context.Background(), func(ctx context.Context) (bool, error) {
		p, err := c.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		if p.Spec.NodeName != "" {
			return false, fmt.Errorf("%s bound to %s", name, p.Spec.NodeName)
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == v1.PodScheduled && cond.Reason == v1.PodReasonUnschedulable {
				message = cond.Message
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("%s not marked unschedulable: %v", name, err)
	}
	return message
}

// waitBound waits until every named pod in default is bound and returns pod -> node.
func waitBound(t *testing.T, c kubernetes.Interface, names ...string) map[string]string {
	t.Helper()
	placed := map[string]string{}
	err := poll(context.Background(), func(ctx context.Context) (bool, error) {
		list, err := c.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, p := range list.Items {
			if p.Spec.NodeName != "" {
				placed[p.Name] = p.Spec.NodeName
			}
		}
		for _, n := range names {
			if placed[n] == "" {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("pods not all bound: placed so far %v: %v\n%s", placed, err, whyPending(c, names, placed))
	}
	return placed
}

// whyPending lists the scheduler's reason for each named pod not yet bound.
func whyPending(c kubernetes.Interface, names []string, placed map[string]string) string {
	var b strings.Builder
	for _, n := range names {
		if placed[n] != "" {
			continue
		}
		p, err := c.CoreV1().Pods("default").Get(context.Background(), n, metav1.GetOptions{})
		if err != nil {
			fmt.Fprintf(&b, "  %s: %v\n", n, err)
			continue
		}
		fmt.Fprintf(&b, "  %s:", n)
		for _, cond := range p.Status.Conditions {
			if cond.Type == v1.PodScheduled {
				fmt.Fprintf(&b, " %s: %s", cond.Reason, cond.Message)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestSchedulerBindsItsPodsOnly(t *testing.T) {
	cp, proc, c := startPlacer(t,
		node("cpu-1", "8", "32Gi", 0), node("cpu-2", "8", "32Gi", 0), node("cpu-3", "8", "32Gi", 0))

	// The foreign pod goes first, so the scheduler has seen it before it binds ours.
	createPods(t, c, pod("foreign", "some-other-scheduler", "100m", 0))
	var ours []string
	for i := range 6 {
		name := fmt.Sprintf("ours-%d", i)
		ours = append(ours, name)
		createPods(t, c, pod(name, "placer", "500m", 0))
	}
	placed := waitBound(t, c, ours...)

	foreign, err := c.CoreV1().Pods("default").Get(context.Background(), "foreign", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if foreign.Spec.NodeName != "" || len(foreign.Status.Conditions) != 0 {
		t.Errorf("pod for another scheduler was touched: node %q, conditions %v", foreign.Spec.NodeName, foreign.Status.Conditions)
	}

	// ResourceAware spreads cpu (LeastAllocated) and the default resource
	// scorers are disabled in the shipped profile: 6 equal pods over 3 equal
	// nodes land 2 per node.
	perNode := map[string]int{}
	for _, n := range placed {
		perNode[n]++
	}
	for _, n := range []string{"cpu-1", "cpu-2", "cpu-3"} {
		if perNode[n] != 2 {
			t.Errorf("cpu pods per node = %v, want 2 on each", perNode)
			break
		}
	}

	// /healthz answers anyone; /metrics needs an identity RBAC allows.
	if body, code, err := proc.Get(nil, "/healthz"); err != nil || code != 200 || string(body) != "ok" {
		t.Errorf("/healthz: %d %q %v", code, body, err)
	}
	if _, code, err := proc.Get(nil, "/metrics"); err != nil || code != 403 {
		t.Errorf("/metrics without credentials: code %d (%v), want 403", code, err)
	}
	body, code, err := proc.Get(cp.Config, "/metrics")
	if err != nil || code != 200 {
		t.Fatalf("/metrics as admin: %d %v", code, err)
	}
	want := fmt.Sprintf(`scheduler_schedule_attempts_total{profile="placer",result="scheduled"} %d`, len(ours))
	if !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %q", want)
	}
}

func TestSchedulerPacksGPUsAndSpreadsCPU(t *testing.T) {
	_, _, c := startPlacer(t,
		node("gpu-1", "32", "128Gi", 4), node("gpu-2", "32", "128Gi", 4),
		node("cpu-1", "32", "128Gi", 0), node("cpu-2", "32", "128Gi", 0))

	var gpuPods, cpuPods []string
	for i := range 4 {
		name := fmt.Sprintf("gpu-%d", i)
		gpuPods = append(gpuPods, name)
		createPods(t, c, pod(name, "placer", "1", 1))
		// Bind one at a time: packing is a property of the sequence of decisions.
		waitBound(t, c, gpuPods...)
	}
	for i := range 3 {
		name := fmt.Sprintf("cpu-%d", i)
		cpuPods = append(cpuPods, name)
		createPods(t, c, pod(name, "placer", "2", 0))
		waitBound(t, c, cpuPods...)
	}
	placed := waitBound(t, c, append(gpuPods, cpuPods...)...)

	gpuNodes := map[string]bool{}
	for _, p := range gpuPods {
		gpuNodes[placed[p]] = true
	}
	if len(gpuNodes) != 1 {
		t.Errorf("4 one-GPU pods on 4-GPU nodes landed on %d nodes (%v), want them packed on 1", len(gpuNodes), placed)
	}
	// Spread cpu, and keep pods that need no GPU off GPU nodes (the shipped
	// scarceResources): the 3 cpu pods go to the two cpu-only nodes, both used.
	cpuNodes := map[string]int{}
	for _, p := range cpuPods {
		cpuNodes[placed[p]]++
	}
	if cpuNodes["cpu-1"]+cpuNodes["cpu-2"] != 3 || cpuNodes["cpu-1"] == 0 || cpuNodes["cpu-2"] == 0 {
		t.Errorf("cpu pods per node = %v (all placements %v), want all on cpu-1 and cpu-2, both used", cpuNodes, placed)
	}

	// Steered, not forbidden: a cpu pod that fits only on a GPU node goes
	// there. 31 cpus fit only on the GPU node without the GPU pods (32 free);
	// the others have at least 2 of their 32 requested. (Fit is decided on
	// the scheduler's own view of the pods it bound, so this does not race
	// with informers the way cordoning a node would.)
	createPods(t, c, pod("cpu-overflow", "placer", "31", 0))
	emptyGPUNode := "gpu-1"
	if gpuNodes["gpu-1"] {
		emptyGPUNode = "gpu-2"
	}
	if got := waitBound(t, c, "cpu-overflow")["cpu-overflow"]; got != emptyGPUNode {
		t.Errorf("cpu pod that fits only on %s went to %q", emptyGPUNode, got)
	}
}

// placerConfig writes a KubeSchedulerConfiguration into a new test
// directory and returns its path: one profile, placer, whose plugins and
// pluginConfig are profile (indented under its list item), for a scheduler
// without leader election that reaches the API server through kubeconfig.
func placerConfig(t *testing.T, kubeconfig, profile string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection: {leaderElect: false}
clientConnection: {kubeconfig: %q}
profiles:
- schedulerName: placer
`, kubeconfig) + profile
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSchedulerHeadroomReason runs the binary with a ceiling on cpu and reads
// the reason a pod is unschedulable the way kubectl describe pod shows it:
// from the PodScheduled condition and the FailedScheduling event.
func TestSchedulerHeadroomReason(t *testing.T) {
	cp := controlplane.StartForTest(t, controlplane.Options{})
	cfgPath := placerConfig(t, cp.KubeconfigPath, `  plugins:
    multiPoint: {enabled: [{name: ResourceAware}]}
  pluginConfig:
  - name: ResourceAware
    args:
      resources:
      - {name: cpu, maxRequestedPercent: 50}
`)
	c := kubernetes.NewForConfigOrDie(cp.Config)
	createNodes(t, c, node("small", "4", "16Gi", 0))
	proc := schedproc.Start(t, cfgPath, cp.KubeconfigPath)
	proc.WaitHealthy(t, hangGuard)

	createPods(t, c, pod("first", "placer", "2", 0))
	waitBound(t, c, "first")
	createPods(t, c, pod("second", "placer", "1", 0))

	const want = "cpu would be 75 percent requested (3 of 4), above the 50 percent ceiling"
	message := waitUnschedulable(t, c, "second")
	if !strings.Contains(message, want) {
		t.Errorf("PodScheduled message %q lacks %q", message, want)
	}
	// The rejection is counted, under the resource whose ceiling it guards.
	waitMetrics(t, proc, cp.Config, func(text string) []string {
		if v, ok := metricValue(text, "placer_resourceaware_filter_rejections_total", `resource="cpu"`); !ok || v < 1 {
			return []string{fmt.Sprintf("placer_resourceaware_filter_rejections_total{resource=\"cpu\"} = %v (present: %v), want >= 1", v, ok)}
		}
		return nil
	})
	err := poll(context.Background(), func(ctx context.Context) (bool, error) {
		events, err := c.EventsV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, e := range events.Items {
			if e.Regarding.Name == "second" && e.Reason == "FailedScheduling" && strings.Contains(e.Note, want) {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		events, _ := c.EventsV1().Events("default").List(context.Background(), metav1.ListOptions{})
		for _, e := range events.Items {
			t.Logf("event %s/%s %s: %s", e.Regarding.Kind, e.Regarding.Name, e.Reason, e.Note)
		}
		t.Errorf("no FailedScheduling event naming the ceiling: %v", err)
	}

	// Freeing room (the first pod goes) makes the second schedulable: the
	// plugin's registered events requeue it.
	if err := c.CoreV1().Pods("default").Delete(context.Background(), "first", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	waitBound(t, c, "second")
}

func TestSchedulerRejectsBadPluginArgs(t *testing.T) {
	// The process must fail during start-up, before it serves or connects:
	// a kubeconfig pointing nowhere proves it never needed the API server.
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		plugin string
		args   string
		want   []string
	}{
		{"zonespread maxSkew zero", "ZoneSpread", `{constraints: [{topologyKey: topology.kubernetes.io/zone, maxSkew: 0}]}`,
			[]string{"ZoneSpread", "constraints[0].maxSkew", "0"}},
		{"zonespread unknown field", "ZoneSpread", `{constraints: [{topologyKey: topology.kubernetes.io/zone}], skew: 2}`,
			[]string{"ZoneSpread", "unknown field", "skew"}},
		{"negative weight", "ResourceAware", `{resources: [{name: cpu, weight: -2}]}`,
			[]string{"ResourceAware", "resources[0].weight", "-2"}},
		{"unknown strategy", "ResourceAware", `{resources: [{name: cpu, strategy: Spread}]}`,
			[]string{"ResourceAware", "resources[0].strategy", "Spread"}},
		{"unknown field", "ResourceAware", `{resources: [{name: cpu}], packing: true}`,
			[]string{"ResourceAware", "unknown field", "packing"}},
		{"shape without its strategy", "ResourceAware", `{resources: [{name: cpu, shape: [{utilization: 0, score: 0}]}]}`,
			[]string{"ResourceAware", "resources[0].shape"}},
		{"duplicate resource", "ResourceAware", `{resources: [{name: cpu}, {name: cpu}]}`,
			[]string{"ResourceAware", "resources[1].name", "cpu"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := placerConfig(t, kubeconfig, fmt.Sprintf(`  plugins: {multiPoint: {enabled: [{name: %s}]}}
  pluginConfig:
  - name: %s
    args: %s
`, tc.plugin, tc.plugin, tc.args))
			out, err := schedproc.RunToExit(t, hangGuard, "--config="+cfg, "--secure-port=0")
			if err == nil {
				t.Fatalf("placer-scheduler started with bad args; output:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not name %q:\n%s", w, lastLines(out, 5))
				}
			}
		})
	}
}

func TestSchedulerVersionAndHelp(t *testing.T) {
	out, err := schedproc.RunToExit(t, hangGuard, "--version")
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "placer-scheduler v") && os.Getenv(schedproc.EnvBinary) != "" {
		t.Errorf("--version printed %q, want placer-scheduler v...", out)
	}
	out, err = schedproc.RunToExit(t, hangGuard, "--help")
	if err != nil || !strings.Contains(out, "placer-scheduler") || !strings.Contains(out, "--config") {
		t.Errorf("--help: %v\n%s", err, lastLines(out, 5))
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitGone waits until the named pod in default no longer exists.
func waitGone(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	err := poll(context.Background(), func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("pod %s still there: %v", name, err)
	}
}
