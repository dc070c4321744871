package integration

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/placer-dev/placer/internal/schedproc"
)

// TestReadmeInstallOverlay builds the overlay README.md's "Install on a
// cluster" writes, word for word, next to a manifests directory as the
// README has it (the repository root), and checks that its image override
// reaches the Deployment: the base's image name must match the overlay's.
func TestReadmeInstallOverlay(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(schedproc.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const opening = "cat > my-placer/kustomization.yaml <<'EOF'\n"
	_, rest, ok := strings.Cut(string(readme), opening)
	if !ok {
		t.Fatalf("README.md no longer writes my-placer/kustomization.yaml with %q", opening)
	}
	overlay, _, ok := strings.Cut(rest, "\nEOF\n")
	if !ok {
		t.Fatal("README.md: the my-placer/kustomization.yaml here-document has no EOF line")
	}
	var k struct {
		Images []struct {
			Name, NewName, NewTag string
		} `json:"images"`
	}
	if err := yaml.Unmarshal([]byte(overlay), &k); err != nil || len(k.Images) != 1 {
		t.Fatalf("README.md's overlay: %v, %d images, want 1:\n%s", err, len(k.Images), overlay)
	}
	want := k.Images[0].NewName + ":" + k.Images[0].NewTag
	if !strings.Contains(string(readme), "make image IMAGE="+want+"\n") || !strings.Contains(string(readme), "docker push "+want+"\n") {
		t.Errorf("README.md builds or pushes an image other than the overlay's %s", want)
	}

	root := t.TempDir()
	if err := os.Symlink(manifestsDir(), filepath.Join(root, "manifests")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "my-placer"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "my-placer", "kustomization.yaml"), []byte(overlay+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runKubectl(t, os.DevNull, "kustomize", filepath.Join(root, "my-placer"))
	var images []string
	for _, doc := range strings.Split(out, "\n---\n") {
		var d appsv1.Deployment
		if err := yaml.Unmarshal([]byte(doc), &d); err != nil {
			t.Fatalf("kubectl kustomize output: %v", err)
		}
		if d.Kind != "Deployment" {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			images = append(images, c.Image)
		}
	}
	if len(images) != 1 || images[0] != want {
		t.Errorf("the overlay's Deployment runs %v, want [%s]", images, want)
	}
}

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Templating struct {
		List []struct {
			Name, Type string
			Query      any
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title      string `json:"title"`
		Type       string `json:"type"`
		Datasource *struct {
			Type, UID string
		} `json:"datasource"`
		Targets []struct {
			Expr       string `json:"expr"`
			Datasource *struct {
				Type, UID string
			} `json:"datasource"`
		} `json:"targets"`
	} `json:"panels"`
}

var metricNameRE = regexp.MustCompile(`\b((?:placer|scheduler|leader_election|rest_client)_[a-z_]+)`)

// TestGrafanaDashboard: the dashboard is valid JSON with a Prometheus
// data-source variable every panel queries through; it charts throughput,
// attempt latency, per-plugin duration and each of Placer's plugin metrics;
// every metric it queries is one docs/metrics.md documents, and every
// Placer metric the documentation lists is one the plugins define.
func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(manifestsDir(), "grafana", "placer-scheduler.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	dsVar := ""
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && v.Query == "prometheus" {
			dsVar = "${" + v.Name + "}"
		}
	}
	if dsVar == "" {
		t.Fatal("no Prometheus data-source variable")
	}
	queried := map[string]bool{}
	charts := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		charts++
		if p.Datasource == nil || p.Datasource.UID != dsVar || len(p.Targets) == 0 {
			t.Errorf("panel %q: data source %v, %d queries; want %s and at least one", p.Title, p.Datasource, len(p.Targets), dsVar)
		}
		for _, q := range p.Targets {
			if q.Datasource != nil && q.Datasource.UID != dsVar {
				t.Errorf("panel %q queries data source %s, not %s", p.Title, q.Datasource.UID, dsVar)
			}
			if strings.Count(q.Expr, "(") != strings.Count(q.Expr, ")") || strings.Count(q.Expr, "{") != strings.Count(q.Expr, "}") {
				t.Errorf("panel %q: unbalanced query %s", p.Title, q.Expr)
			}
			for _, m := range metricNameRE.FindAllString(q.Expr, -1) {
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					m = strings.TrimSuffix(m, suffix)
				}
				queried[m] = true
			}
		}
	}
	if charts == 0 {
		t.Fatal("dashboard has no panels")
	}

	docs, err := os.ReadFile(filepath.Join(schedproc.RepoRoot(), "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	defined := placerMetricsDefined(t)
	for m := range queried {
		if !strings.Contains(string(docs), "`"+m) {
			t.Errorf("the dashboard queries %s, which docs/metrics.md does not document", m)
		}
		if strings.HasPrefix(m, "placer_") && !defined[m] {
			t.Errorf("the dashboard queries %s, which no plugin defines", m)
		}
	}
	for _, m := range []string{"scheduler_schedule_attempts_total", "scheduler_scheduling_attempt_duration_seconds", "scheduler_plugin_execution_duration_seconds"} {
		if !queried[m] {
			t.Errorf("the dashboard does not chart %s", m)
		}
	}
	for m := range defined {
		if !queried[m] {
			t.Errorf("the dashboard does not chart %s", m)
		}
		if !strings.Contains(string(docs), "`"+m+"`") {
			t.Errorf("docs/metrics.md does not document %s", m)
		}
	}
	// The harness's live metrics (placer-bench --metrics-addr) are defined
	// in pkg/bench/live, under the namespace placer_bench.
	liveSrc, err := os.ReadFile(filepath.Join(schedproc.RepoRoot(), "pkg", "bench", "live", "live.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range metricNameRE.FindAllString(string(docs), -1) {
		if name, ok := strings.CutPrefix(m, "placer_bench_"); ok {
			if !strings.Contains(string(liveSrc), `Name: "`+name+`"`) {
				t.Errorf("docs/metrics.md documents %s, which pkg/bench/live does not define", m)
			}
			continue
		}
		if strings.HasPrefix(m, "placer_") && !defined[m] {
			t.Errorf("docs/metrics.md documents %s, which no plugin defines", m)
		}
	}
}

// placerMetricsDefined reads the metric definitions of the plugins
// (pkg/plugins/*/metrics.go: pluginkit.Counter(subsystem, name, ...) calls,
// or metric Opts with Namespace, Subsystem, Name) and returns their full
// names.
func placerMetricsDefined(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(schedproc.RepoRoot(), "pkg", "plugins", "*", "metrics.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no pkg/plugins/*/metrics.go: %v", err)
	}
	out := map[string]bool{}
	for _, f := range files {
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(parsed, func(n ast.Node) bool {
			// pluginkit.Counter("<subsystem>", "<name>", ...) is
			// placer_<subsystem>_<name>.
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Counter" && len(call.Args) >= 2 {
					sub, _ := call.Args[0].(*ast.BasicLit)
					name, _ := call.Args[1].(*ast.BasicLit)
					if sub != nil && name != nil {
						s, _ := strconv.Unquote(sub.Value)
						m, _ := strconv.Unquote(name.Value)
						out["placer_"+s+"_"+m] = true
					}
				}
				return true
			}
			lit, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			if sel, ok := lit.Type.(*ast.SelectorExpr); !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
				return true
			}
			parts := map[string]string{}
			for _, e := range lit.Elts {
				kv, ok := e.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				key, _ := kv.Key.(*ast.Ident)
				val, _ := kv.Value.(*ast.BasicLit)
				if key != nil && val != nil && val.Kind == token.STRING {
					parts[key.Name], _ = strconv.Unquote(val.Value)
				}
			}
			name := strings.Join(slices.DeleteFunc([]string{parts["Namespace"], parts["Subsystem"], parts["Name"]},
				func(s string) bool { return s == "" }), "_")
			if parts["Name"] == "" || !strings.HasPrefix(name, "placer_") {
				t.Errorf("%s: a metric not named placer_<plugin>_<name>: %q", f, name)
				return true
			}
			out[name] = true
			return true
		})
	}
	return out
}

// readmeLine returns the README's line that starts with prefix.
func readmeLine(t *testing.T, readme, prefix string) string {
	t.Helper()
	for _, l := range strings.Split(readme, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("README.md has no line starting with %q", prefix)
	return ""
}

// TestReadmeInstallImageAndHelm takes README.md's "Install on a cluster"
// commands as written: make image-archive writes what crane push and kind
// load are given (make -n shows the command's --out and --image), and the
// helm install line, rendered with Helm's library and its flags, runs the
// image the README pushes in the namespace it names, as the same release
// helm uninstall removes.
func TestReadmeInstallImageAndHelm(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(schedproc.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	const want = "registry.example.com/placer/placer-scheduler:v0.1.0"

	// The image.
	archiveLine := strings.Fields(readmeLine(t, readme, "make image-archive IMAGE="))
	if archiveLine[2] != "IMAGE="+want {
		t.Errorf("README builds %s, want %s", archiveLine[2], want)
	}
	makeN := func(vars ...string) string {
		cmd := exec.Command("make", append([]string{"-n", "image-archive"}, vars...)...)
		cmd.Dir = schedproc.RepoRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n image-archive: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := makeN(archiveLine[2]); !strings.Contains(out, "--image "+want+" --out _output/image ") ||
		!strings.Contains(out, "--binary linux/amd64=") || !strings.Contains(out, "--binary linux/arm64=") {
		t.Errorf("make image-archive %s does not build both platforms of %s into _output/image:\n%s", archiveLine[2], want, out)
	}
	if got := readmeLine(t, readme, "crane push "); got != "crane push _output/image/oci "+want {
		t.Errorf("README pushes with %q, want crane push _output/image/oci %s", got, want)
	}
	kindArchive := strings.Fields(readmeLine(t, readme, "make image-archive IMAGE_PLATFORMS="))[2]
	if out := makeN(kindArchive); !strings.Contains(out, "--image placer-scheduler:dev --out _output/image ") ||
		!strings.Contains(out, "--binary linux/amd64=") || strings.Contains(out, "linux/arm64") {
		t.Errorf("make image-archive %s does not build linux/amd64 alone of placer-scheduler:dev into _output/image:\n%s", kindArchive, out)
	}
	// The archive's name is checked in TestImageArchive.
	if got := readmeLine(t, readme, "kind load image-archive "); got != "kind load image-archive _output/image/placer-scheduler-linux-amd64.tar" {
		t.Errorf("README loads %q into kind", got)
	}

	// Helm.
	args := strings.Fields(readmeLine(t, readme, "helm install "))
	if len(args) < 4 || args[3] != "charts/placer-scheduler" {
		t.Fatalf("README's helm install does not install charts/placer-scheduler: %v", args)
	}
	in := helmInstall{release: args[2], kubeVersion: "v1.34.7"}
	for i := 4; i < len(args); i++ {
		switch args[i] {
		case "--namespace", "-n":
			i++
			in.namespace = args[i]
		case "--set":
			i++
			in.sets = append(in.sets, args[i])
		case "--create-namespace":
		default:
			t.Fatalf("README's helm install has %q, which this test does not know", args[i])
		}
	}
	if in.namespace != placerNamespace {
		t.Errorf("README installs into namespace %q, want %s", in.namespace, placerNamespace)
	}
	manifest, err := renderChart(t, in)
	if err != nil {
		t.Fatalf("README's helm install: %v", err)
	}
	var images []string
	for _, o := range decodeObjects(t, manifest) {
		if o.GetKind() == "Deployment" {
			var d appsv1.Deployment
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &d); err != nil {
				t.Fatal(err)
			}
			for _, c := range d.Spec.Template.Spec.Containers {
				images = append(images, c.Image)
			}
		}
	}
	if len(images) != 1 || images[0] != want {
		t.Errorf("README's helm install runs %v, want [%s]", images, want)
	}
	if uninstall := "`helm uninstall " + in.release + " --namespace " + in.namespace + "`"; !strings.Contains(readme, uninstall) {
		t.Errorf("README does not say %s", uninstall)
	}

	// The label README adds is the one manifests/namespace.yaml enforces.
	nsData, err := os.ReadFile(filepath.Join(manifestsDir(), "namespace.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ns v1.Namespace
	if err := yaml.Unmarshal(nsData, &ns); err != nil {
		t.Fatal(err)
	}
	label := strings.Fields(readmeLine(t, readme, "kubectl label namespace "))
	k, v, _ := strings.Cut(label[len(label)-1], "=")
	if label[3] != placerNamespace || ns.Labels[k] != v {
		t.Errorf("README labels %v; manifests/namespace.yaml has %s=%q", label, k, ns.Labels[k])
	}
}
