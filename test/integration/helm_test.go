package integration

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/strvals"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/manifests"
	"github.com/placer-dev/placer/pkg/controlplane"
)

func chartDir() string { return filepath.Join(schedproc.RepoRoot(), "charts", "placer-scheduler") }

// helmInstall is what `helm install`/`helm template` take that matters here.
type helmInstall struct {
	release, namespace string
	sets               []string // --set a=b,...
	kubeVersion        string   // the cluster's, e.g. v1.34.7
}

// renderChart renders the chart as `helm template` does (Helm's install
// action, client only): values checked against values.schema.json, the
// chart's kubeVersion against the cluster's, manifests in Helm's install
// order.
func renderChart(t *testing.T, in helmInstall) (string, error) {
	t.Helper()
	chrt, err := loader.Load(chartDir())
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	vals := map[string]any{}
	for _, s := range in.sets {
		if err := strvals.ParseInto(s, vals); err != nil {
			t.Fatalf("--set %s: %v", s, err)
		}
	}
	inst := action.NewInstall(&action.Configuration{Log: t.Logf})
	inst.ClientOnly, inst.DryRun, inst.Replace = true, true, true
	inst.ReleaseName, inst.Namespace = in.release, in.namespace
	if in.kubeVersion != "" {
		kv, err := chartutil.ParseKubeVersion(in.kubeVersion)
		if err != nil {
			t.Fatal(err)
		}
		inst.KubeVersion = kv
	}
	rel, err := inst.Run(chrt, vals)
	if err != nil {
		return "", err
	}
	return rel.Manifest, nil
}

// decodeObjects splits a YAML stream into objects.
func decodeObjects(t *testing.T, stream string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(stream), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return objs
		} else if err != nil {
			t.Fatalf("decoding manifests: %v", err)
		}
		if m != nil {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}

// helmOnlyLabels are the labels the chart adds to those manifests/ sets.
var helmOnlyLabels = []string{"app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "app.kubernetes.io/version", "helm.sh/chart"}

// kustomizeConfigMapName is the hashed name kustomize's configMapGenerator gives.
var kustomizeConfigMapName = regexp.MustCompile(`^placer-scheduler-config-[a-z0-9]{10}$`)

// installedObjects reads back, from the API server, every object the
// manifests name, as the server stores them (defaults filled in), less what
// the server assigns and what is meant to differ between the two installs:
// Helm's labels and config checksum, kustomize's hashed ConfigMap name.
func installedObjects(t *testing.T, cp *controlplane.ControlPlane, rendered []*unstructured.Unstructured) map[string]map[string]any {
	t.Helper()
	dc := discovery.NewDiscoveryClientForConfigOrDie(cp.Config)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn := dynamic.NewForConfigOrDie(cp.Config)
	out := map[string]map[string]any{}
	for _, r := range rendered {
		gvk := r.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s: %v", gvk, err)
		}
		got, err := dyn.Resource(m.Resource).Namespace(r.GetNamespace()).Get(context.Background(), r.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s %s/%s was applied but cannot be read: %v", gvk.Kind, r.GetNamespace(), r.GetName(), err)
		}
		obj := got.Object
		for _, f := range []string{"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "annotations"} {
			unstructured.RemoveNestedField(obj, "metadata", f)
		}
		delete(obj, "status")
		unstructured.RemoveNestedField(obj, "spec", "clusterIP")
		unstructured.RemoveNestedField(obj, "spec", "clusterIPs")
		labels := got.GetLabels()
		for _, l := range helmOnlyLabels {
			delete(labels, l)
		}
		unstructured.SetNestedStringMap(obj, labels, "metadata", "labels")
		if got.GetKind() == "Deployment" {
			unstructured.RemoveNestedField(obj, "spec", "template", "metadata", "annotations")
			tmplLabels, _, _ := unstructured.NestedStringMap(obj, "spec", "template", "metadata", "labels")
			for _, l := range helmOnlyLabels {
				delete(tmplLabels, l)
			}
			unstructured.SetNestedStringMap(obj, tmplLabels, "spec", "template", "metadata", "labels")
			vols, _, _ := unstructured.NestedSlice(obj, "spec", "template", "spec", "volumes")
			for _, v := range vols {
				if cm, ok := v.(map[string]any)["configMap"].(map[string]any); ok && kustomizeConfigMapName.MatchString(cm["name"].(string)) {
					cm["name"] = "placer-scheduler-config"
				}
			}
			unstructured.SetNestedSlice(obj, vols, "spec", "template", "spec", "volumes")
		}
		name := got.GetName()
		if got.GetKind() == "ConfigMap" && kustomizeConfigMapName.MatchString(name) {
			name = "placer-scheduler-config"
			unstructured.SetNestedField(obj, name, "metadata", "name")
		}
		out[got.GetKind()+" "+got.GetNamespace()+"/"+name] = obj
	}
	return out
}

// installServiceMonitorCRD installs the ServiceMonitor schema (testdata), so
// that ServiceMonitors are validated field by field.
func installServiceMonitorCRD(t *testing.T, cp *controlplane.ControlPlane) {
	t.Helper()
	runKubectl(t, cp.KubeconfigPath, "apply", "--server-side", "-f", filepath.Join("testdata", "servicemonitor-crd.yaml"))
	runKubectl(t, cp.KubeconfigPath, "wait", "--for=condition=Established", "--timeout=3m", "crd/servicemonitors.monitoring.coreos.com")
}

// embeddedKubeVersion is the Kubernetes version of the embedded control
// plane: that of the k8s.io/kubernetes module go.mod requires (the API
// server, built without version stamps, reports v0.0.0).
func embeddedKubeVersion(t *testing.T) string {
	t.Helper()
	gomod, err := os.ReadFile(filepath.Join(schedproc.RepoRoot(), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*k8s\.io/kubernetes (v\S+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("go.mod requires no k8s.io/kubernetes")
	}
	return string(m[1])
}

// TestHelmChart renders the chart with the Helm library (namespace and
// ServiceMonitor on), server-side applies it with strict validation to one
// control plane and the kustomize base with its Prometheus overlay to
// another, and checks the API servers hold the same objects. Then it runs
// placer-scheduler with the chart's ConfigMap under the chart's
// ServiceAccount and RBAC: it must lead and bind pods, refused nothing.
func TestHelmChart(t *testing.T) {
	helmCP := controlplane.StartForTest(t, controlplane.Options{})
	manifest, err := renderChart(t, helmInstall{
		release: "placer-scheduler", namespace: placerNamespace, kubeVersion: embeddedKubeVersion(t),
		sets: []string{"namespace.create=true,serviceMonitor.enabled=true"},
	})
	if err != nil {
		t.Fatalf("rendering the chart: %v", err)
	}
	file := filepath.Join(t.TempDir(), "placer-scheduler.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	installServiceMonitorCRD(t, helmCP)
	runKubectl(t, helmCP.KubeconfigPath, "apply", "--server-side", "--validate=strict", "-f", file)
	fromHelm := installedObjects(t, helmCP, decodeObjects(t, manifest))

	kustCP := controlplane.StartForTest(t, controlplane.Options{})
	installServiceMonitorCRD(t, kustCP)
	installManifests(t, kustCP)
	overlay := filepath.Join(manifestsDir(), "overlays", "prometheus")
	runKubectl(t, kustCP.KubeconfigPath, "apply", "--server-side", "--validate=strict", "-k", overlay)
	kustomized := decodeObjects(t, runKubectl(t, os.DevNull, "kustomize", manifestsDir())+"\n---\n"+runKubectl(t, os.DevNull, "kustomize", overlay))
	fromKustomize := installedObjects(t, kustCP, kustomized)

	var keys []string
	for k := range fromKustomize {
		keys = append(keys, k)
	}
	for k := range fromHelm {
		if _, ok := fromKustomize[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		h, inHelm := fromHelm[k]
		kz, inKust := fromKustomize[k]
		switch {
		case !inHelm:
			t.Errorf("the chart does not install %s", k)
		case !inKust:
			t.Errorf("the chart installs %s, which manifests/ does not", k)
		default:
			if d := cmp.Diff(kz, h); d != "" {
				t.Errorf("%s differs (-kustomize +helm):\n%s", k, d)
			}
		}
	}
	t.Logf("%d objects, the same from both", len(keys))

	// The chart's configuration by default is the shipped file, byte for byte.
	c := kubernetes.NewForConfigOrDie(helmCP.Config)
	createNodes(t, c, threeZoneNodes()...)
	_, data := installedConfig(t, c)
	if !bytes.Equal(data, manifests.SchedulerConfig) {
		t.Errorf("the chart's ConfigMap differs from manifests/scheduler-config.yaml")
	}
	kubeconfig, _ := serviceAccountKubeconfig(t, helmCP, placerNamespace, placerSA)
	proc := schedproc.Start(t, writeSchedulerConfig(t, data, kubeconfig, nil), kubeconfig, "--v=2")
	proc.WaitHealthy(t, hangGuard)
	waitLogged(t, proc, acquiredLogLine)
	pods := createDeploymentPods(t, c, "helm", 3)
	waitBound(t, c, pods...)
	for _, line := range strings.Split(readLog(t, proc), "\n") {
		if strings.Contains(strings.ToLower(line), "forbidden") {
			t.Errorf("refused by RBAC: %s", line)
		}
	}
}

// TestHelmChartValues: what the schema and the chart refuse, and what a
// configuration given in values changes.
func TestHelmChartValues(t *testing.T) {
	render := func(ns string, sets ...string) (string, error) {
		return renderChart(t, helmInstall{release: "placer-scheduler", namespace: ns, kubeVersion: "v1.34.7", sets: sets})
	}
	for _, c := range []struct {
		ns   string
		sets []string
		want string
	}{
		{placerNamespace, []string{"replicas=0"}, "replicas"},
		{placerNamespace, []string{"imagee.tag=x"}, "imagee"},
		{placerNamespace, []string{"serviceMonitor.interval=often"}, "interval"},
		{placerNamespace, []string{"config.kind=Pod"}, "config"},
		// The shipped configuration's Lease is in placer-system.
		{"elsewhere", nil, "install with --namespace placer-system"},
		{placerNamespace, []string{"config.apiVersion=kubescheduler.config.k8s.io/v1,config.kind=KubeSchedulerConfiguration,config.profiles[0].schedulerName=placer,config.leaderElection.leaderElect=false"}, "replicas > 1 needs"},
	} {
		_, err := render(c.ns, c.sets...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--namespace %s --set %v: %v, want an error naming %q", c.ns, c.sets, err, c.want)
		}
	}
	// The chart's copy of the shipped configuration is the shipped one.
	shipped, err := os.ReadFile(filepath.Join(chartDir(), "files", "scheduler-config.yaml"))
	if err != nil || !bytes.Equal(shipped, manifests.SchedulerConfig) {
		t.Errorf("charts/placer-scheduler/files/scheduler-config.yaml is not manifests/scheduler-config.yaml (%v): copy it", err)
	}
	if _, err := renderChart(t, helmInstall{release: "placer-scheduler", namespace: placerNamespace, kubeVersion: "v1.29.0"}); err == nil {
		t.Errorf("rendered for Kubernetes 1.29, below the chart's kubeVersion")
	}

	// A configuration of one's own, in another namespace: the ConfigMap holds
	// it, and the Role grants its Lease.
	own := []string{"config.apiVersion=kubescheduler.config.k8s.io/v1,config.kind=KubeSchedulerConfiguration," +
		"config.profiles[0].schedulerName=mine,config.leaderElection.leaderElect=true," +
		"config.leaderElection.resourceNamespace=sched,config.leaderElection.resourceName=my-lease"}
	out, err := render("sched", own...)
	if err != nil {
		t.Fatal(err)
	}
	var sawRole, sawConfig bool
	for _, o := range decodeObjects(t, out) {
		if o.GetNamespace() != "sched" && o.GetKind() != "ClusterRoleBinding" && o.GetKind() != "ClusterRole" && o.GetName() != "placer-scheduler-extension-apiserver-authentication-reader" {
			t.Errorf("%s %s in namespace %q, want sched", o.GetKind(), o.GetName(), o.GetNamespace())
		}
		switch o.GetKind() {
		case "Role":
			rules, _, _ := unstructured.NestedSlice(o.Object, "rules")
			for _, r := range rules {
				names, _, _ := unstructured.NestedStringSlice(r.(map[string]any), "resourceNames")
				sawRole = sawRole || slices.Equal(names, []string{"my-lease"})
			}
		case "ConfigMap":
			data, _, _ := unstructured.NestedString(o.Object, "data", configMapKey)
			sawConfig = strings.Contains(data, "schedulerName: mine") && strings.Contains(data, "resourceName: my-lease")
		case "Namespace", "ServiceMonitor":
			t.Errorf("rendered a %s with namespace.create and serviceMonitor.enabled off", o.GetKind())
		}
	}
	if !sawRole || !sawConfig {
		t.Errorf("with a configuration of one's own: Role grants its Lease %v, ConfigMap holds it %v", sawRole, sawConfig)
	}
}
