package integration

import (
	"os"
	"path/filepath"
	"testing"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/pkg/bench/workload"
	"github.com/placer-dev/placer/pkg/testkit"
)

// startKit starts a test kit Env on its own embedded control plane whose
// scheduler is the placer-scheduler binary: the kit creates the cluster's
// nodes, prepare (when given) adjusts them, and only then does the binary
// start, with config (empty: the shipped configuration) and its
// clientConnection.kubeconfig filled in, so that its first look at the
// cluster sees every node as the test made it. The kit creates workloads,
// waits and reads placements; the binary schedules, as users run it.
func startKit(t *testing.T, cluster workload.Cluster, config string, prepare func(*testkit.Env)) (*testkit.Env, *schedproc.Process) {
	t.Helper()
	var proc *schedproc.Process
	env := testkit.Start(t, testkit.Options{
		Cluster:       cluster,
		SchedulerName: "placer",
		Timeout:       hangGuard,
		External: func(tb testing.TB, env *testkit.Env) {
			if prepare != nil {
				prepare(env)
			}
			dir := tb.TempDir()
			src := shippedConfig()
			if config != "" {
				src = filepath.Join(dir, "given.yaml")
				if err := os.WriteFile(src, []byte(config), 0o600); err != nil {
					tb.Fatal(err)
				}
			}
			ensureLeaseNamespace(tb, env, src)
			kubeconfig := env.ControlPlane.KubeconfigPath
			proc = schedproc.Start(tb, schedproc.ConfigWithKubeconfig(tb, src, kubeconfig, dir), kubeconfig)
			proc.WaitHealthy(tb, hangGuard)
		},
	})
	return env, proc
}

// zoneGroup is count nodes <name>-0.. in one zone, of 16 cpus and 64Gi.
func zoneGroup(name, zone string, count int) workload.NodeGroup {
	return workload.NodeGroup{Name: name, Count: workload.N(count), Zones: []string{zone},
		Capacity: v1.ResourceList{v1.ResourceCPU: resource.MustParse("16"), v1.ResourceMemory: resource.MustParse("64Gi")}}
}

// replicated is a Deployment or StatefulSet of pods asking for half a cpu.
func replicated(kind, name string, replicas int) workload.Workload {
	return workload.Workload{Name: name, Kind: kind, Replicas: workload.N(replicas),
		Pod: workload.PodShape{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m")}}}
}

// ensureLeaseNamespace creates the namespace of the configuration's leader
// election lease, as an admin's install does before the scheduler starts:
// without it the scheduler never becomes leader and schedules nothing.
func ensureLeaseNamespace(tb testing.TB, env *testkit.Env, configPath string) {
	tb.Helper()
	data, err := os.ReadFile(configPath)
	if err != nil {
		tb.Fatal(err)
	}
	var cfg struct {
		LeaderElection struct {
			LeaderElect       *bool  `json:"leaderElect"`
			ResourceNamespace string `json:"resourceNamespace"`
		} `json:"leaderElection"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		tb.Fatalf("%s: %v", configPath, err)
	}
	le := cfg.LeaderElection
	if le.LeaderElect != nil && !*le.LeaderElect || le.ResourceNamespace == "" {
		return
	}
	_, err = env.Client.CoreV1().Namespaces().Create(tb.Context(), &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: le.ResourceNamespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		tb.Fatalf("creating the lease namespace %s: %v", le.ResourceNamespace, err)
	}
}
