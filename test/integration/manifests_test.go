package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	v1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	schedconfig "k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/manifests"
	"github.com/placer-dev/placer/pkg/controlplane"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
	"github.com/placer-dev/placer/pkg/sim"
)

// What manifests/kustomization.yaml installs, as the README tells an admin
// to install it.
const (
	placerNamespace  = "placer-system"
	placerSA         = "placer-scheduler"
	placerDeployment = "placer-scheduler"
	placerLease      = "placer-scheduler"
	// The container the Deployment runs, and the file its ConfigMap holds.
	placerContainer = "scheduler"
	configMapKey    = "scheduler-config.yaml"
	prometheusNS    = "monitoring"
	prometheusSA    = "prometheus-k8s"
	boundLogLine    = "Successfully bound pod to node"
	acquiredLogLine = "successfully acquired lease " + placerNamespace + "/" + placerLease
	// client-go's leader election reports 1 while leading, 0 otherwise,
	// under the name kube-scheduler gives its elector.
	leaderMetric      = "leader_election_master_status"
	leaderMetricLabel = `name="kube-scheduler"`
)

func manifestsDir() string { return filepath.Join(schedproc.RepoRoot(), "manifests") }

// runKubectl runs the built kubectl as a user would, and fails the test with
// its output if it fails.
func runKubectl(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	out, err := exec.Command(kubectl(t), append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// installManifests applies the main kustomization server-side with strict
// field validation: an unknown field, a wrong type or an object the API
// server rejects fails the test.
func installManifests(t *testing.T, cp *controlplane.ControlPlane) {
	t.Helper()
	runKubectl(t, cp.KubeconfigPath, "apply", "--server-side", "--validate=strict", "-k", manifestsDir())
}

// serviceAccountKubeconfig writes a kubeconfig with the identity the API
// server gives a pod running as the ServiceAccount ns/name (user and
// groups), and returns its path and a client config.
func serviceAccountKubeconfig(t *testing.T, cp *controlplane.ControlPlane, ns, name string) (string, *rest.Config) {
	t.Helper()
	data, err := cp.Kubeconfig("system:serviceaccount:"+ns+":"+name,
		"system:serviceaccounts", "system:serviceaccounts:"+ns, "system:authenticated")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	return path, cfg
}

// installedConfig returns the ConfigMap the installed Deployment mounts as
// its configuration (kustomize gives it a hashed name) and the file in it.
func installedConfig(t *testing.T, c kubernetes.Interface) (*v1.ConfigMap, []byte) {
	t.Helper()
	ctx := context.Background()
	d, err := c.AppsV1().Deployments(placerNamespace).Get(ctx, placerDeployment, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var name string
	for _, vol := range d.Spec.Template.Spec.Volumes {
		if vol.ConfigMap != nil {
			name = vol.ConfigMap.Name
		}
	}
	if name == "" {
		t.Fatalf("Deployment %s mounts no ConfigMap", placerDeployment)
	}
	cm, err := c.CoreV1().ConfigMaps(placerNamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the ConfigMap the Deployment mounts: %v", err)
	}
	data, ok := cm.Data[configMapKey]
	if !ok {
		t.Fatalf("ConfigMap %s has no %s", name, configMapKey)
	}
	return cm, []byte(data)
}

// writeSchedulerConfig writes data as a config file for schedproc.Start, its
// kubeconfig set to kubeconfig and leaderElection fields replaced by those
// of leader (nil: unchanged).
func writeSchedulerConfig(t *testing.T, data []byte, kubeconfig string, leader map[string]any) string {
	t.Helper()
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	le, _ := cfg["leaderElection"].(map[string]any)
	if le == nil {
		le = map[string]any{}
	}
	for k, v := range leader {
		le[k] = v
	}
	cfg["leaderElection"] = le
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "from-configmap.yaml")
	if err := os.WriteFile(src, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return schedproc.ConfigWithKubeconfig(t, src, kubeconfig, dir)
}

func threeZoneNodes() []*v1.Node {
	return []*v1.Node{
		zonedNode("a-1", "zone-a", false), zonedNode("a-2", "zone-a", false),
		zonedNode("b-1", "zone-b", false), zonedNode("b-2", "zone-b", false),
		zonedNode("c-1", "zone-c", false), zonedNode("c-2", "zone-c", false),
	}
}

// TestInstallManifests applies what an admin applies (the kustomization, the
// Prometheus overlay, the examples) with kubectl to a real API server, reads
// the installed configuration back and checks it with the binary's own
// decoder, then runs placer-scheduler under the ServiceAccount's identity
// and its RBAC only: it must schedule replicated pods and a StatefulSet
// replica with a claim, elect itself, and never be refused anything.
func TestInstallManifests(t *testing.T) {
	ctx := context.Background()
	cp := controlplane.StartForTest(t, controlplane.Options{})
	c := kubernetes.NewForConfigOrDie(cp.Config)
	createNodes(t, c, threeZoneNodes()...)

	installManifests(t, cp)
	checkInstalledObjects(t, c)

	// The Prometheus overlay needs the ServiceMonitor kind: a schema of its
	// fields is installed first, so that the overlay's ServiceMonitor is
	// validated field by field.
	runKubectl(t, cp.KubeconfigPath, "apply", "--server-side", "-f", filepath.Join("testdata", "servicemonitor-crd.yaml"))
	runKubectl(t, cp.KubeconfigPath, "wait", "--for=condition=Established", "--timeout=3m", "crd/servicemonitors.monitoring.coreos.com")
	runKubectl(t, cp.KubeconfigPath, "apply", "--server-side", "--validate=strict", "-k", filepath.Join(manifestsDir(), "overlays", "prometheus"))
	checkServiceMonitor(t, cp, c)

	runKubectl(t, cp.KubeconfigPath, "apply", "--server-side", "--validate=strict", "-n", "default", "-f", filepath.Join(manifestsDir(), "examples"))

	// The installed configuration is the shipped file, and the binary's
	// decoder (defaults, validation, plugin arguments) accepts it.
	_, data := installedConfig(t, c)
	if !bytes.Equal(data, manifests.SchedulerConfig) {
		t.Errorf("the installed ConfigMap differs from manifests/scheduler-config.yaml")
	}
	cfg, err := inprocscheduler.DecodeConfig(data)
	if err != nil {
		t.Fatalf("the installed configuration does not decode: %v", err)
	}
	if !slices.ContainsFunc(cfg.Profiles, func(p schedconfig.KubeSchedulerProfile) bool { return p.SchedulerName == "placer" }) {
		t.Errorf("the installed configuration has no profile placer")
	}
	le := cfg.LeaderElection
	if !le.LeaderElect || le.ResourceLock != "leases" || le.ResourceNamespace != placerNamespace || le.ResourceName != placerLease {
		t.Errorf("leader election %+v, want a lease %s/%s, which the RBAC allows", le, placerNamespace, placerLease)
	}

	// The scheduler runs as its ServiceAccount, against RBAC alone.
	kubeconfig, _ := serviceAccountKubeconfig(t, cp, placerNamespace, placerSA)
	proc := schedproc.Start(t, writeSchedulerConfig(t, data, kubeconfig, nil), kubeconfig, "--v=2")
	proc.WaitHealthy(t, hangGuard)
	waitLeaseHolder(t, c, "")

	// The examples' pods, created as their controllers would create them: a
	// ReplicaSet's replicas, and StatefulSet replicas with claims that a
	// provisioner binds once the scheduler has picked a node
	// (WaitForFirstConsumer), which it records by updating the claim.
	class := "placer-test-zonal"
	_, err = c.StorageV1().StorageClasses().Create(ctx, &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: class},
		Provisioner:       sim.Provisioner,
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingWaitForFirstConsumer),
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	provCtx, stopProvisioner := context.WithCancel(ctx)
	provDone := make(chan struct{})
	go func() { defer close(provDone); sim.RunProvisioner(provCtx, c, "") }()
	t.Cleanup(func() { stopProvisioner(); <-provDone })

	web, err := c.AppsV1().Deployments("default").Get(ctx, "placer-example-web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := c.AppsV1().StatefulSets("default").Get(ctx, "placer-example-db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	webPods := podsOfDeployment(t, c, web)
	dbPods := podsOfStatefulSet(t, c, db, class)
	allPods := slices.Concat(webPods, dbPods)
	placed := waitBound(t, c, allPods...)

	zones := []string{"zone-a", "zone-b", "zone-c"}
	if s := skew(zoneCounts(t, c, placed, webPods, zones)); s > 1 {
		t.Errorf("example Deployment per zone %v: skew %d, want <= 1", zoneCounts(t, c, placed, webPods, zones), s)
	}
	for z, n := range zoneCounts(t, c, placed, dbPods, zones) {
		if n != 1 {
			t.Errorf("example StatefulSet has %d replicas in %s, want one per zone", n, z)
		}
	}
	for _, p := range dbPods {
		claim := "data-" + p
		pvc, err := c.CoreV1().PersistentVolumeClaims("default").Get(ctx, claim, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if pvc.Annotations["volume.kubernetes.io/selected-node"] != placed[p] {
			t.Errorf("claim %s: selected-node %q, want %s, where its pod went", claim, pvc.Annotations["volume.kubernetes.io/selected-node"], placed[p])
		}
	}

	// README's check: each pod's Scheduled event names the placer profile as
	// its reporting component (events are written asynchronously: wait).
	scheduledBy := map[string]string{}
	err = poll(ctx, func(ctx context.Context) (bool, error) {
		events, err := c.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "reason=Scheduled"})
		if err != nil {
			return false, nil
		}
		for _, e := range events.Items {
			scheduledBy[e.InvolvedObject.Name] = e.ReportingController
		}
		return !slices.ContainsFunc(allPods, func(p string) bool { return scheduledBy[p] == "" }), nil
	})
	if err != nil {
		t.Errorf("not every example pod has a Scheduled event: %v (%v)", err, scheduledBy)
	}
	for p, by := range scheduledBy {
		if by != "placer" {
			t.Errorf("pod %s: Scheduled event reported by %q, want placer", p, by)
		}
	}

	waitLogged(t, proc, acquiredLogLine)
	for _, line := range strings.Split(readLog(t, proc), "\n") {
		if strings.Contains(strings.ToLower(line), "forbidden") {
			t.Errorf("refused by RBAC: %s", line)
		}
	}

	// Probes: /livez and /readyz answer without credentials.
	for _, path := range []string{"/livez", "/readyz"} {
		if body, code, err := proc.Get(nil, path); err != nil || code != 200 || string(body) != "ok" {
			t.Errorf("%s without credentials: %d %q %v", path, code, body, err)
		}
	}

	// /metrics: Prometheus (the overlay's binding) may read it, another
	// ServiceAccount may not. The scheduler caches authorisation answers for
	// a few seconds, and PostBind counters move just after a pod is bound:
	// waitMetrics retries until the answers are right.
	_, promCfg := serviceAccountKubeconfig(t, cp, prometheusNS, prometheusSA)
	waitMetrics(t, proc, promCfg, func(text string) []string {
		return placerMetricsProblems(text, len(allPods))
	})
	_, otherCfg := serviceAccountKubeconfig(t, cp, prometheusNS, "someone-else")
	if _, code, err := proc.Get(otherCfg, "/metrics"); err != nil || code != 403 {
		t.Errorf("/metrics as another ServiceAccount: %d %v, want 403", code, err)
	}
}

// checkInstalledObjects checks what the API server cannot: that the
// installed objects fit together, keep to least privilege, and that the
// scheduler's pod passes the restricted Pod Security Standard.
func checkInstalledObjects(t *testing.T, c kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	d, err := c.AppsV1().Deployments(placerNamespace).Get(ctx, placerDeployment, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := d.Spec.Template
	podLabels := labels.Set(tmpl.Labels)
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("Deployment replicas %v, want 2", d.Spec.Replicas)
	}
	if tmpl.Spec.ServiceAccountName != placerSA {
		t.Errorf("pod runs as ServiceAccount %q, want %s", tmpl.Spec.ServiceAccountName, placerSA)
	}
	var ctr *v1.Container
	for i := range tmpl.Spec.Containers {
		if tmpl.Spec.Containers[i].Name == placerContainer {
			ctr = &tmpl.Spec.Containers[i]
		}
	}
	if ctr == nil {
		t.Fatalf("Deployment has no container %s", placerContainer)
	}
	// The image is the kustomization's images: entry, applied.
	if ctr.Image != "placer-scheduler:dev" {
		t.Errorf("image %q, want placer-scheduler:dev (kustomization images:)", ctr.Image)
	}
	if !slices.Contains(ctr.Args, "--config=/etc/placer/"+configMapKey) {
		t.Errorf("args %v do not name the mounted configuration", ctr.Args)
	}
	// The probes reach the secure port over HTTPS.
	securePort := 10259
	for _, a := range ctr.Args {
		if v, ok := strings.CutPrefix(a, "--secure-port="); ok {
			securePort, _ = strconv.Atoi(v)
		}
	}
	portOf := func(p intstr.IntOrString) int {
		if p.Type == intstr.Int {
			return p.IntValue()
		}
		for _, cp := range ctr.Ports {
			if cp.Name == p.StrVal {
				return int(cp.ContainerPort)
			}
		}
		return -1
	}
	for name, probe := range map[string]*v1.Probe{"liveness": ctr.LivenessProbe, "readiness": ctr.ReadinessProbe} {
		if probe == nil || probe.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", name)
			continue
		}
		if probe.HTTPGet.Scheme != v1.URISchemeHTTPS || portOf(probe.HTTPGet.Port) != securePort {
			t.Errorf("%s probe %s %v, want HTTPS on %d", name, probe.HTTPGet.Scheme, probe.HTTPGet.Port, securePort)
		}
	}
	if ctr.LivenessProbe != nil && ctr.LivenessProbe.HTTPGet != nil && ctr.LivenessProbe.HTTPGet.Path != "/livez" {
		t.Errorf("liveness probe path %q, want /livez", ctr.LivenessProbe.HTTPGet.Path)
	}
	if ctr.ReadinessProbe != nil && ctr.ReadinessProbe.HTTPGet != nil && ctr.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe path %q, want /readyz", ctr.ReadinessProbe.HTTPGet.Path)
	}
	if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() {
		t.Errorf("container requests %v, want cpu and memory", ctr.Resources.Requests)
	}
	// Pod Security does not cover a read-only root filesystem.
	if sc := ctr.SecurityContext; sc == nil || !ptr.Deref(sc.ReadOnlyRootFilesystem, false) {
		t.Errorf("container root filesystem is writable")
	}
	aff := tmpl.Spec.Affinity
	if aff == nil || aff.PodAntiAffinity == nil || len(aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		t.Errorf("no anti-affinity between replicas")
	} else {
		term := aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm
		sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
		if err != nil || !sel.Matches(podLabels) || term.TopologyKey != "kubernetes.io/hostname" {
			t.Errorf("anti-affinity %v does not keep the replicas' nodes apart", term)
		}
	}

	// The restricted Pod Security Standard, which the namespace enforces:
	// a server-side dry run of the pod the Deployment would make.
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: placerDeployment + "-", Labels: tmpl.Labels}, Spec: tmpl.Spec}
	if _, err := c.CoreV1().Pods(placerNamespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("the Deployment's pod is refused in %s: %v", placerNamespace, err)
	}

	pdb, err := c.PolicyV1().PodDisruptionBudgets(placerNamespace).Get(ctx, placerDeployment, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || !sel.Matches(podLabels) {
		t.Errorf("PodDisruptionBudget selector %v does not select the scheduler's pods", pdb.Spec.Selector)
	}
	svc, err := c.CoreV1().Services(placerNamespace).Get(ctx, "placer-scheduler-metrics", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) || len(svc.Spec.Ports) != 1 ||
		portOf(svc.Spec.Ports[0].TargetPort) != securePort {
		t.Errorf("metrics Service %v does not reach the secure port %d", svc.Spec, securePort)
	}

	// Least privilege: the ServiceAccount is bound to these roles and no others.
	allowed := map[string]bool{
		"ClusterRole/system:kube-scheduler":                          true,
		"ClusterRole/system:volume-scheduler":                        true,
		"kube-system/Role/extension-apiserver-authentication-reader": true,
		placerNamespace + "/Role/placer-scheduler-leader-election":   true,
		"ClusterRole/placer-scheduler-annotate-pods":                 true,
	}
	isOurs := func(subjects []rbacv1.Subject) bool {
		return slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
			return s.Kind == "ServiceAccount" && s.Name == placerSA && s.Namespace == placerNamespace
		})
	}
	found := map[string]bool{}
	crbs, err := c.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range crbs.Items {
		if isOurs(b.Subjects) {
			found[b.RoleRef.Kind+"/"+b.RoleRef.Name] = true
		}
	}
	rbs, err := c.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range rbs.Items {
		if isOurs(b.Subjects) {
			found[b.Namespace+"/"+b.RoleRef.Kind+"/"+b.RoleRef.Name] = true
		}
	}
	for k := range found {
		if !allowed[k] {
			t.Errorf("%s/%s is bound to %s, beyond what it needs", placerNamespace, placerSA, k)
		}
	}
	for k := range allowed {
		if !found[k] {
			t.Errorf("%s/%s is not bound to %s", placerNamespace, placerSA, k)
		}
	}

	// The plugins annotate the pods they schedule (GPU devices,
	// explanations), which no upstream role grants: ask the API server.
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               serviceaccount.MakeUsername(placerNamespace, placerSA),
		Groups:             serviceaccount.MakeGroupNames(placerNamespace),
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "default", Verb: "patch", Resource: "pods"},
	}}
	if got, err := c.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	} else if !got.Status.Allowed {
		t.Errorf("%s/%s may not patch pods: %s", placerNamespace, placerSA, got.Status.Reason)
	}
}

// checkServiceMonitor: the overlay's ServiceMonitor selects the metrics
// Service, in its namespace, on a port the Service has.
func checkServiceMonitor(t *testing.T, cp *controlplane.ControlPlane, c kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	gvr := schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}
	obj, err := dyn.Resource(gvr).Namespace(placerNamespace).Get(ctx, placerDeployment, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the overlay's ServiceMonitor: %v", err)
	}
	var sm struct {
		Spec struct {
			NamespaceSelector struct {
				MatchNames []string `json:"matchNames"`
			} `json:"namespaceSelector"`
			Selector  metav1.LabelSelector `json:"selector"`
			Endpoints []struct {
				Port   string `json:"port"`
				Scheme string `json:"scheme"`
			} `json:"endpoints"`
		} `json:"spec"`
	}
	data, err := obj.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &sm); err != nil {
		t.Fatal(err)
	}
	svcs, err := c.CoreV1().Services(placerNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	var selected []v1.Service
	for _, s := range svcs.Items {
		if sel.Matches(labels.Set(s.Labels)) {
			selected = append(selected, s)
		}
	}
	if len(selected) != 1 || selected[0].Name != "placer-scheduler-metrics" {
		t.Fatalf("ServiceMonitor selects %d Services in %s, want placer-scheduler-metrics alone", len(selected), placerNamespace)
	}
	if !slices.Contains(sm.Spec.NamespaceSelector.MatchNames, placerNamespace) {
		t.Errorf("ServiceMonitor looks in %v, not %s", sm.Spec.NamespaceSelector.MatchNames, placerNamespace)
	}
	if len(sm.Spec.Endpoints) == 0 {
		t.Fatal("ServiceMonitor has no endpoints")
	}
	for _, ep := range sm.Spec.Endpoints {
		if !slices.ContainsFunc(selected[0].Spec.Ports, func(p v1.ServicePort) bool { return p.Name == ep.Port }) || ep.Scheme != "https" {
			t.Errorf("ServiceMonitor endpoint %s %q: the Service has no such port, or not https", ep.Scheme, ep.Port)
		}
	}
}

// podsOfDeployment creates, for d, a ReplicaSet and its pods with owner
// references, as the Deployment and ReplicaSet controllers would.
func podsOfDeployment(t *testing.T, c kubernetes.Interface, d *appsv1.Deployment) []string {
	t.Helper()
	ctx := context.Background()
	const hash = "7c9d5f"
	tmpl := *d.Spec.Template.DeepCopy()
	tmpl.Labels["pod-template-hash"] = hash
	rs, err := c.AppsV1().ReplicaSets(d.Namespace).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-" + hash, Labels: tmpl.Labels, OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: d.Spec.Replicas, Selector: &metav1.LabelSelector{MatchLabels: tmpl.Labels}, Template: tmpl},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range int(ptr.Deref(d.Spec.Replicas, 1)) {
		p := &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", rs.Name, i), Namespace: d.Namespace, Labels: tmpl.Labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr.To(true)}}},
			Spec: tmpl.Spec,
		}
		createPods(t, c, p)
		names = append(names, p.Name)
	}
	return names
}

// podsOfStatefulSet creates ss's replicas as the StatefulSet controller
// would: a claim per volumeClaimTemplate and ordinal, then the pod using it.
// The claims name class explicitly: the DefaultStorageClass admission plugin
// would fill in a default class, but it learns of new classes through an
// informer, which a test cannot wait for.
func podsOfStatefulSet(t *testing.T, c kubernetes.Interface, ss *appsv1.StatefulSet, class string) []string {
	t.Helper()
	ctx := context.Background()
	var names []string
	for i := range int(ptr.Deref(ss.Spec.Replicas, 1)) {
		name := fmt.Sprintf("%s-%d", ss.Name, i)
		spec := *ss.Spec.Template.Spec.DeepCopy()
		for _, vct := range ss.Spec.VolumeClaimTemplates {
			claim := vct.Name + "-" + name
			pvc := &v1.PersistentVolumeClaim{
				ObjectMeta: metav1.ObjectMeta{Name: claim, Namespace: ss.Namespace, Labels: ss.Spec.Selector.MatchLabels},
				Spec:       *vct.Spec.DeepCopy(),
			}
			pvc.Spec.StorageClassName = &class
			if _, err := c.CoreV1().PersistentVolumeClaims(ss.Namespace).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			spec.Volumes = append(spec.Volumes, v1.Volume{Name: vct.Name,
				VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
		}
		podLabels := map[string]string{"apps.kubernetes.io/pod-index": strconv.Itoa(i)}
		for k, v := range ss.Spec.Template.Labels {
			podLabels[k] = v
		}
		p := &v1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ss.Namespace, Labels: podLabels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: ss.Name, UID: ss.UID, Controller: ptr.To(true)}}},
			Spec: spec,
		}
		createPods(t, c, p)
		names = append(names, p.Name)
	}
	return names
}

// waitLeaseHolder waits until the scheduler's Lease is held by someone other
// than notBy and returns the holder and the lease's transitions so far.
func waitLeaseHolder(t *testing.T, c kubernetes.Interface, notBy string) (string, int32) {
	t.Helper()
	var holder string
	var transitions int32
	err := poll(context.Background(), func(ctx context.Context) (bool, error) {
		l, err := c.CoordinationV1().Leases(placerNamespace).Get(ctx, placerLease, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || err != nil {
			return false, nil
		}
		holder = ptr.Deref(l.Spec.HolderIdentity, "")
		transitions = ptr.Deref(l.Spec.LeaseTransitions, 0)
		return holder != "" && holder != notBy, nil
	})
	if err != nil {
		t.Fatalf("Lease %s/%s: no holder other than %q (last %q): %v", placerNamespace, placerLease, notBy, holder, err)
	}
	return holder, transitions
}

func readLog(t *testing.T, p *schedproc.Process) string {
	t.Helper()
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// boundBy returns the pods (namespace/name) the process's log says it bound.
func boundBy(t *testing.T, p *schedproc.Process) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	re := regexp.MustCompile(`pod="([^"]+)"`)
	for _, line := range strings.Split(readLog(t, p), "\n") {
		if !strings.Contains(line, boundLogLine) {
			continue
		}
		if m := re.FindStringSubmatch(line); m != nil {
			out[m[1]] = true
		}
	}
	return out
}

// metricValue returns the sum of the samples of the metric name (lines
// `name{labels} value`) whose labels include every one of want (`k="v"`),
// and whether there was any.
func metricValue(text, name string, want ...string) (float64, bool) {
	var sum float64
	found := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		series, value := line[:i], line[i+1:]
		metric, labelPart, _ := strings.Cut(series, "{")
		if metric != name || slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(labelPart, w) }) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		sum += v
		found = true
	}
	return sum, found
}

// waitMetrics fetches /metrics as cfg until check finds no problem, and
// fails the test with the last problems found if that never happens.
func waitMetrics(t *testing.T, p *schedproc.Process, cfg *rest.Config, check func(text string) []string) {
	t.Helper()
	var problems []string
	err := poll(context.Background(), func(context.Context) (bool, error) {
		body, code, err := p.Get(cfg, "/metrics")
		if err != nil || code != 200 {
			problems = []string{fmt.Sprintf("/metrics on port %d: %d %v", p.Port, code, err)}
			return false, nil
		}
		problems = check(string(body))
		return len(problems) == 0, nil
	})
	if err != nil {
		for _, pr := range problems {
			t.Error(pr)
		}
	}
}

// placerMetricsProblems: after pods bound with the shipped profile
// (replicated pods over zones, StatefulSet replicas, no GPUs anywhere),
// /metrics carries upstream's scheduling metrics and each of Placer's
// plugins' own.
func placerMetricsProblems(text string, bound int) []string {
	checks := []struct {
		name            string
		labels          []string
		atLeast, atMost float64 // atMost < 0: no upper bound
	}{
		{"scheduler_schedule_attempts_total", []string{`profile="placer"`, `result="scheduled"`}, float64(bound), float64(bound)},
		{"scheduler_framework_extension_point_duration_seconds_count", []string{`extension_point="Filter"`, `profile="placer"`}, 1, -1},
		{"scheduler_pending_pods", []string{`queue="active"`}, 0, -1},
		{leaderMetric, []string{leaderMetricLabel}, 1, 1},
		// Every replicated pod went through ZoneSpread's bound, and with
		// replicas spread over three zones, every second pod finds a zone
		// already ahead: some nodes are rejected for skew.
		{"placer_zonespread_attempts_total", []string{`decision="spread"`}, float64(bound), -1},
		{"placer_zonespread_filter_rejections_total", []string{`reason="max_skew"`}, 1, -1},
		// The three StatefulSet replicas, each placed by one rule.
		{"placer_statefulset_placements_total", nil, 3, 3},
		// No node has a GPU and no pod asks for one: every pod lands off
		// scarce nodes.
		{"placer_resourceaware_scarce_placements_total", []string{`node="other_node"`}, float64(bound), float64(bound)},
	}
	var problems []string
	for _, ch := range checks {
		v, ok := metricValue(text, ch.name, ch.labels...)
		if !ok || v < ch.atLeast || (ch.atMost >= 0 && v > ch.atMost) {
			problems = append(problems, fmt.Sprintf("/metrics %s%v = %v (present: %v), want between %v and %v",
				ch.name, ch.labels, v, ok, ch.atLeast, ch.atMost))
		}
	}
	return problems
}

// waitLogged waits until the process's log contains s.
func waitLogged(t *testing.T, p *schedproc.Process, s string) {
	t.Helper()
	err := poll(context.Background(), func(context.Context) (bool, error) {
		return strings.Contains(readLog(t, p), s), nil
	})
	if err != nil {
		t.Fatalf("log of the process on port %d never showed %q: %v", p.Port, s, err)
	}
}

// waitBindingsLogged waits until every pod (in default) appears as bound in
// the log of one of procs: a pod's node is set just before its binder logs it.
func waitBindingsLogged(t *testing.T, pods []string, procs ...*schedproc.Process) {
	t.Helper()
	err := poll(context.Background(), func(context.Context) (bool, error) {
		all := map[string]bool{}
		for _, p := range procs {
			for k := range boundBy(t, p) {
				all[k] = true
			}
		}
		return !slices.ContainsFunc(pods, func(p string) bool { return !all["default/"+p] }), nil
	})
	if err != nil {
		t.Fatalf("not every pod of %v shows as bound in a scheduler's log: %v", pods, err)
	}
}

// TestSchedulerLeaderElection runs two placer-scheduler processes with the
// installed configuration and RBAC against one API server, with short lease
// timings: only the Lease holder binds pods; when it is killed (no chance to
// release the lease), the other takes the lease over and binds the rest.
func TestSchedulerLeaderElection(t *testing.T) {
	cp := controlplane.StartForTest(t, controlplane.Options{})
	c := kubernetes.NewForConfigOrDie(cp.Config)
	createNodes(t, c, threeZoneNodes()...)
	installManifests(t, cp)
	_, data := installedConfig(t, c)
	kubeconfig, _ := serviceAccountKubeconfig(t, cp, placerNamespace, placerSA)
	// Shorter than the defaults (15s, 10s, 2s) so that the takeover is
	// quick, long enough that a busy machine does not lose the lease.
	cfg := writeSchedulerConfig(t, data, kubeconfig, map[string]any{
		"leaseDuration": "8s", "renewDeadline": "6s", "retryPeriod": "1s",
	})

	first := schedproc.Start(t, cfg, kubeconfig, "--v=2")
	first.WaitHealthy(t, hangGuard)
	firstHolder, transitions := waitLeaseHolder(t, c, "")
	second := schedproc.Start(t, cfg, kubeconfig, "--v=2")
	second.WaitHealthy(t, hangGuard)
	// The standby is ready too: its caches sync while it waits for the lease.
	if err := poll(context.Background(), func(context.Context) (bool, error) {
		_, code, err := second.Get(nil, "/readyz")
		return err == nil && code == 200, nil
	}); err != nil {
		t.Fatalf("standby /readyz never 200: %v", err)
	}
	// Who leads: the process whose log shows the lease acquired, and whose
	// leader metric is 1 (the other's is 0).
	waitLogged(t, first, acquiredLogLine)
	checkLeader(t, cp, first, second)
	if strings.Contains(readLog(t, second), acquiredLogLine) {
		t.Fatalf("both processes acquired the lease")
	}

	batch1 := createDeploymentPods(t, c, "before", 4)
	waitBound(t, c, batch1...)
	waitBindingsLogged(t, batch1, first, second)
	if holder, _ := waitLeaseHolder(t, c, ""); holder != firstHolder {
		t.Fatalf("lease moved from %s to %s while both ran", firstHolder, holder)
	}
	byFirst, bySecond := boundBy(t, first), boundBy(t, second)
	for _, p := range batch1 {
		if !byFirst["default/"+p] {
			t.Errorf("%s was bound, but not by the leader", p)
		}
	}
	if len(bySecond) != 0 {
		t.Errorf("the standby bound pods: %v", bySecond)
	}

	// Kill the leader as a crash would; its lease expires, the standby takes it.
	first.Kill()
	batch2 := createDeploymentPods(t, c, "after", 4)
	secondHolder, newTransitions := waitLeaseHolder(t, c, firstHolder)
	if newTransitions <= transitions {
		t.Errorf("lease transitions %d after the takeover, were %d", newTransitions, transitions)
	}
	waitBound(t, c, batch2...)
	waitBindingsLogged(t, batch2, second)
	if !strings.Contains(readLog(t, second), acquiredLogLine) {
		t.Errorf("the standby's log does not show it acquiring the lease (holder now %s)", secondHolder)
	}
	bySecond = boundBy(t, second)
	for _, p := range batch2 {
		if !bySecond["default/"+p] {
			t.Errorf("%s was bound, but not by the new leader", p)
		}
	}
	for _, p := range batch1 {
		if bySecond["default/"+p] {
			t.Errorf("the new leader bound %s again", p)
		}
	}
	t.Logf("lease %s bound %v; after it was killed, %s (transitions %d -> %d) bound %v",
		firstHolder, batch1, secondHolder, transitions, newTransitions, batch2)
	for _, proc := range []*schedproc.Process{first, second} {
		for _, line := range strings.Split(readLog(t, proc), "\n") {
			if strings.Contains(strings.ToLower(line), "forbidden") {
				t.Errorf("refused by RBAC: %s", line)
			}
		}
	}
}

// checkLeader: the leader's /metrics says it leads, the standby's says it does not.
func checkLeader(t *testing.T, cp *controlplane.ControlPlane, leader, standby *schedproc.Process) {
	t.Helper()
	for _, pc := range []struct {
		p    *schedproc.Process
		want float64
	}{{leader, 1}, {standby, 0}} {
		waitMetrics(t, pc.p, cp.Config, func(text string) []string {
			if v, ok := metricValue(text, leaderMetric, leaderMetricLabel); !ok || v != pc.want {
				return []string{fmt.Sprintf("%s{%s} = %v (present: %v) on port %d, want %v", leaderMetric, leaderMetricLabel, v, ok, pc.p.Port, pc.want)}
			}
			return nil
		})
	}
}
