package upstream

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/placer-dev/placer/internal/testfile"
	"github.com/placer-dev/placer/manifests"
	"github.com/placer-dev/placer/pkg/inprocscheduler"
)

// TestUpstreamConfigs loads every performance-config.yaml shipped with
// k8s.io/kubernetes and plans every workload in it: each either plans, or
// is refused for an op placer-bench does not run, named with its line.
func TestUpstreamConfigs(t *testing.T) {
	root := testfile.SchedulerPerfDir(t)
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "performance-config.yaml" {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found %d performance-config.yaml under %s; scheduler_perf ships about ten", len(files), root)
	}
	unsupportedAt := regexp.MustCompile(`performance-config\.yaml:\d+: .*op not supported by placer-bench: .*"(allocResourceClaims|createResourceClaims|createResourceDriver|updateAny)"|creating resource\.k8s\.io`)
	planned, refused := 0, 0
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		f, err := Load(path)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		for _, tc := range f.Cases {
			for _, w := range tc.Workloads {
				_, err := f.Plan(tc, w, nil)
				switch {
				case err == nil:
					planned++
				case errors.Is(err, ErrUnsupportedOp) && unsupportedAt.MatchString(err.Error()):
					refused++
				default:
					t.Errorf("%s: %s/%s: %v", rel, tc.Name, w.Name, err)
				}
			}
		}
	}
	t.Logf("%d files: %d workloads planned, %d refused for unsupported ops", len(files), planned, refused)
	if planned < 100 {
		t.Errorf("only %d workloads planned; the non-DRA cases alone have well over 100", planned)
	}
}

// TestSchedulingBasicPlan checks the plan of the case the fidelity
// comparison runs, op by op.
func TestSchedulingBasicPlan(t *testing.T) {
	f, err := Load(filepath.Join(testfile.SchedulerPerfDir(t), "misc", "performance-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tc, w, err := f.Select("SchedulingBasic/5000Nodes_10000Pods")
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Plan(tc, w, map[string]int{"measurePods": 2000})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 3 {
		t.Fatalf("%d steps, want 3", len(p.Steps))
	}
	want := []struct {
		code      string
		count     int
		namespace string
		collect   bool
	}{
		{OpCreateNodes, 5000, "", false},
		{OpCreatePods, 1000, "namespace-1", false},
		{OpCreatePods, 2000, "namespace-2", true},
	}
	for i, s := range p.Steps {
		w := want[i]
		if s.Code != w.code || s.Count != w.count || s.Namespace != w.namespace {
			t.Errorf("step %d: %s count %d namespace %q, want %s %d %q", i, s.Code, s.Count, s.Namespace, w.code, w.count, w.namespace)
		}
		if s.Code == OpCreatePods {
			if s.CreatePods.CollectMetrics != w.collect {
				t.Errorf("step %d: collectMetrics %v, want %v", i, s.CreatePods.CollectMetrics, w.collect)
			}
			if s.PodTemplate == nil || filepath.Base(s.PodTemplate.path) != "pod-default.yaml" {
				t.Errorf("step %d: pod template %v, want the case's default ../templates/pod-default.yaml", i, s.PodTemplate)
			}
		}
	}
	if on, ok := p.FeatureGates["SchedulerQueueingHints"]; !ok || on {
		t.Errorf("feature gates %v: want the workload's SchedulerQueueingHints=false", p.FeatureGates)
	}
	if p.Name() != "SchedulingBasic/5000Nodes_10000Pods" {
		t.Errorf("name %q", p.Name())
	}
}

// loadSelected loads dir/config.yaml and selects its only workload. With
// a wantLoadErr, Load must fail with it and ok is false; the refusal tables
// share this path so that they differ only in where the refusal comes.
func loadSelected(t *testing.T, dir, wantLoadErr string) (f *File, c *TestCase, w *Workload, ok bool) {
	t.Helper()
	f, err := Load(filepath.Join(dir, "config.yaml"))
	if wantLoadErr != "" {
		wantErr(t, "Load", err, wantLoadErr)
		return nil, nil, nil, false
	}
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	c, w, err = f.Select("")
	if err != nil {
		t.Fatal(err)
	}
	return f, c, w, true
}

// wantErr fails the test unless err contains want.
func wantErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%s: got %v\nwant an error containing %q", what, err, want)
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const podTemplate = `apiVersion: v1
kind: Pod
metadata:
  generateName: pod-
spec:
  containers:
  - name: pause
    image: registry.k8s.io/pause:3.10.1
    resources:
      requests: {cpu: 100m, memory: 500Mi}
`

// basicConfig is the smallest config the refusal tests edit: a node
// count and a pod count, each from a param.
const basicConfig = `- name: Basic
  defaultPodTemplatePath: pod.yaml
  workloadTemplate:
  - opcode: createNodes
    countParam: $nodes
  - opcode: createPods
    countParam: $pods
    collectMetrics: true
  workloads:
  - name: small
    params: {nodes: 5, pods: 10}
`

// TestErrors checks that every mistake is reported before a run, with the
// file, the line and what is wrong.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		sets         map[string]int
		// loadErr is matched against Load's error; planErr, when Load
		// succeeds, against Plan's.
		loadErr, planErr string
	}{
		{name: "unknown op field", config: strings.Replace(basicConfig, "    countParam: $nodes", "    countParam: $nodes\n    cuont: 3", 1),
			loadErr: `config.yaml:6: Basic.workloadTemplate[0] (createNodes): unknown field "cuont"`},
		{name: "unknown case field", config: strings.Replace(basicConfig, "  defaultPodTemplatePath", "  lables: [x]\n  defaultPodTemplatePath", 1),
			loadErr: `config.yaml:2: [0]: unknown field "lables"`},
		{name: "unknown opcode", config: strings.Replace(basicConfig, "opcode: createNodes", "opcode: createNode", 1),
			loadErr: `config.yaml:4: Basic.workloadTemplate[0] (createNode): unknown opcode "createNode"`},
		{name: "wrong type", config: strings.Replace(basicConfig, "collectMetrics: true", "collectMetrics: yes please", 1),
			loadErr: `config.yaml:6: Basic.workloadTemplate[1] (createPods).CollectMetrics: cannot take string`},
		{name: "countParam without $", config: strings.Replace(basicConfig, "countParam: $pods", "countParam: pods", 1),
			loadErr: `config.yaml:6: Basic.workloadTemplate[1] (createPods).countParam: "pods" must start with $`},
		{name: "churn mode", config: strings.Replace(basicConfig, "  workloads:", "  - opcode: churn\n    mode: sometimes\n    templatePaths: [pod.yaml]\n  workloads:", 1),
			loadErr: `config.yaml:9: Basic.workloadTemplate[2] (churn).mode: "sometimes": want create or recreate`},
		{name: "duplicate workload", config: basicConfig + "  - name: small\n    params: {nodes: 1, pods: 1}\n",
			loadErr: `config.yaml:12: Basic: workload name "small" is not unique`},
		{name: "unsupported op", config: strings.Replace(basicConfig, "  workloads:", "  - opcode: createResourceDriver\n    driverName: x\n  workloads:", 1),
			planErr: `config.yaml:9: Basic.workloadTemplate[2]: op not supported by placer-bench: "createResourceDriver"`},
		{name: "undefined param", config: strings.Replace(basicConfig, "$pods", "$measurePods", 1),
			planErr: `config.yaml:6: Basic/small: workloadTemplate[1] (createPods): param $measurePods is not defined by the workload`},
		{name: "unused param", config: strings.Replace(basicConfig, "{nodes: 5, pods: 10}", "{nodes: 5, pods: 10, extra: 1}", 1),
			planErr: `config.yaml:10: workload Basic/small: params extra are defined but no op uses them`},
		{name: "set of a param the workload lacks", config: basicConfig, sets: map[string]int{"initPods": 3},
			planErr: `--set initPods: workload Basic/small has no such param; it has nodes, pods`},
		{name: "missing template", config: strings.Replace(basicConfig, "pod.yaml", "missing.yaml", 1),
			planErr: `missing.yaml: no such file`},
		{name: "unknown feature gate", config: strings.Replace(basicConfig, "    params:", "    featureGates: {NoSuchGate: true}\n    params:", 1),
			planErr: `config.yaml:10: Basic/small: featureGates: unknown feature gate "NoSuchGate"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"config.yaml": tc.config, "pod.yaml": podTemplate})
			f, c, w, ok := loadSelected(t, dir, tc.loadErr)
			if !ok {
				return
			}
			_, err := f.Plan(c, w, tc.sets)
			wantErr(t, "Plan", err, tc.planErr)
		})
	}
}

func TestSelect(t *testing.T) {
	dir := writeFiles(t, map[string]string{"pod.yaml": podTemplate, "config.yaml": `
- name: A
  defaultPodTemplatePath: pod.yaml
  workloadTemplate:
  - {opcode: createPods, count: 1, collectMetrics: true}
  workloads:
  - name: small
  - name: big
- name: B
  defaultPodTemplatePath: pod.yaml
  workloadTemplate:
  - {opcode: createPods, count: 1, collectMetrics: true}
  workloads:
  - name: small
  - name: only-b
`})
	f, err := Load(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ sel, want, err string }{
		{sel: "A/big", want: "A/big"},
		{sel: "only-b", want: "B/only-b"},
		{sel: "small", err: "--case small is ambiguous in " + f.Path + ": it matches\n  A/small\n  B/small"},
		{sel: "A", err: "--case A is ambiguous"},
		{sel: "C/small", err: "--case C/small: " + f.Path + " has no such workload; it has:\n  A/small\n  A/big\n  B/small\n  B/only-b"},
		{sel: "", err: "has 4 workloads: choose one with --case NAME/WORKLOAD"},
	} {
		c, w, err := f.Select(tc.sel)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Select(%q): got %v, want %q", tc.sel, err, tc.err)
			}
		case err != nil:
			t.Errorf("Select(%q): %v", tc.sel, err)
		case c.Name+"/"+w.Name != tc.want:
			t.Errorf("Select(%q) = %s/%s, want %s", tc.sel, c.Name, w.Name, tc.want)
		}
	}
}

func TestIsUpstreamFile(t *testing.T) {
	for _, tc := range []struct {
		data string
		want bool
	}{
		{"- name: A\n  workloads: []\n", true},
		{"apiVersion: bench.placer.dev/v1alpha1\nkind: Workload\n", false},
		{"", false},
		{"[unclosed", false},
	} {
		if got := IsUpstreamFile([]byte(tc.data)); got != tc.want {
			t.Errorf("IsUpstreamFile(%q) = %v, want %v", tc.data, got, tc.want)
		}
	}
}

// TestPlacerPerfConfig plans every workload of Placer's own scheduler_perf
// cases (test/perf/config), which make perf-upstream runs under upstream's
// harness, and checks that their placer profile is the one Placer ships.
func TestPlacerPerfConfig(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	f, err := Load(filepath.Join(root, "test", "perf", "config", "performance-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range f.Cases {
		for _, w := range tc.Workloads {
			p, err := f.Plan(tc, w, nil)
			if err != nil {
				t.Errorf("%s/%s: %v", tc.Name, w.Name, err)
				continue
			}
			if _, err := inprocscheduler.LoadConfig(p.SchedulerConfigPath()); err != nil {
				t.Errorf("%s: schedulerConfigPath: %v", tc.Name, err)
			}
		}
	}
	shipped, err := inprocscheduler.DecodeConfig(manifests.SchedulerConfig)
	if err != nil {
		t.Fatal(err)
	}
	perf, err := inprocscheduler.LoadConfig(filepath.Join(root, "test", "perf", "config", "scheduler", "placer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(shipped.Profiles, perf.Profiles); diff != "" {
		t.Errorf("test/perf/config/scheduler/placer.yaml's profile differs from manifests/scheduler-config.yaml's (-shipped +perf):\n%s", diff)
	}
}
