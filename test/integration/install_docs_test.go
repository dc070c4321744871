package integration

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
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
// (pkg/plugins/*/metrics.go: CounterOpts with Namespace, Subsystem, Name)
// and returns their full names.
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
