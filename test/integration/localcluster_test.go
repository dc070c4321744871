package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/placer-dev/placer/internal/schedproc"
	"github.com/placer-dev/placer/pkg/explanation"
)

// TestClusterUp follows "Try it locally": `placer-bench cluster up`, then
// `kubectl apply -f manifests/examples/` with the kubeconfig it printed.
// The real controllers make the pods, placer places them, the simulated
// nodes run them and the provisioner gives the StatefulSet its volumes;
// Ctrl-C removes everything.
func TestClusterUp(t *testing.T) {
	bench := schedproc.Tool(t, "PLACER_BENCH_BIN", "placer-bench", "github.com/placer-dev/placer/cmd/bench")
	kubectl := schedproc.Tool(t, "PLACER_KUBECTL_BIN", "kubectl", "k8s.io/kubernetes/cmd/kubectl")
	tmp := t.TempDir()
	cmd := exec.Command(bench, "cluster", "up", "--log-file", filepath.Join(tmp, "cluster.log"))
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	var printed strings.Builder
	kubeconfigLine := regexp.MustCompile(`^kubeconfig: (\S+)$`)
	var kubeconfig string
	lines := bufio.NewScanner(stdout)
	for kubeconfig == "" && lines.Scan() {
		printed.WriteString(lines.Text() + "\n")
		if m := kubeconfigLine.FindStringSubmatch(lines.Text()); m != nil {
			kubeconfig = m[1]
		}
	}
	if kubeconfig == "" {
		_ = cmd.Wait()
		exited = true
		t.Fatalf("no kubeconfig printed:\n%s\nstderr:\n%s", printed.String(), stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	kc := func(args ...string) string {
		t.Helper()
		c := exec.Command(kubectl, args...)
		c.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	kc("apply", "-f", filepath.Join(schedproc.RepoRoot(), "manifests", "examples"))

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	// 6 web replicas from the Deployment controller, 3 db replicas from the
	// StatefulSet controller (which makes ordinal i+1 only once i is Ready),
	// all Running, every claim Bound.
	var state string
	err = poll(ctx, func(ctx context.Context) (bool, error) {
		pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		claims, err := client.CoreV1().PersistentVolumeClaims("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		running, bound := 0, 0
		for _, p := range pods.Items {
			if p.Status.Phase == v1.PodRunning && p.Spec.NodeName != "" {
				running++
			}
		}
		for _, c := range claims.Items {
			if c.Status.Phase == v1.ClaimBound {
				bound++
			}
		}
		state = fmt.Sprintf("%d pods, %d running; %d claims, %d bound", len(pods.Items), running, len(claims.Items), bound)
		return len(pods.Items) == 9 && running == 9 && len(claims.Items) == 3 && bound == 3, nil
	})
	if err != nil {
		t.Fatalf("examples not running: %s\n%s", state, kc("get", "pods,pvc", "-o", "wide"))
	}

	// kubectl shows where each landed; placer (the scheduler's profile)
	// reported every placement; each workload is spread over the 3 zones.
	wide := kc("get", "pods", "-o", "wide")
	pods, _ := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	zonesOf := map[string]map[string]int{}
	for _, p := range pods.Items {
		if !regexp.MustCompile(p.Name + `\s+1/1\s+Running\s.*\s` + p.Spec.NodeName + `\s`).MatchString(wide) {
			t.Errorf("kubectl get pods -o wide does not show %s Running on %s:\n%s", p.Name, p.Spec.NodeName, wide)
		}
		app := p.Labels["app.kubernetes.io/name"]
		if zonesOf[app] == nil {
			zonesOf[app] = map[string]int{}
		}
		zonesOf[app][strings.SplitN(p.Spec.NodeName, "-node-", 2)[0]]++
	}
	want := map[string]map[string]int{
		"placer-example-web": {"zone-a": 2, "zone-b": 2, "zone-c": 2},
		"placer-example-db":  {"zone-a": 1, "zone-b": 1, "zone-c": 1},
	}
	if fmt.Sprint(zonesOf) != fmt.Sprint(want) {
		t.Errorf("pods per zone %v, want %v", zonesOf, want)
	}
	events, err := client.EventsV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "reason=Scheduled"})
	if err != nil {
		t.Fatal(err)
	}
	byPlacer := 0
	for _, e := range events.Items {
		if e.ReportingController == "placer" {
			byPlacer++
		}
	}
	if byPlacer != 9 {
		t.Errorf("%d of %d Scheduled events reported by placer, want 9", byPlacer, len(events.Items))
	}
	// The README's way to see them.
	if ev := kc("get", "events", "--field-selector", "reason=Scheduled"); !strings.Contains(ev, "Successfully assigned default/placer-example-db-0 to ") {
		t.Errorf("kubectl get events --field-selector reason=Scheduled:\n%s", ev)
	}

	// The example StatefulSet's pods ask to be explained: the README's
	// kubectl recipes show it.
	if ev := kc("get", "events", "--field-selector", "reason=Explained"); !strings.Contains(ev, "pod/placer-example-db-0") ||
		!strings.Contains(ev, "StatefulSetAware") {
		t.Errorf("kubectl get events --field-selector reason=Explained:\n%s", ev)
	}
	db0, err := client.CoreV1().Pods("default").Get(ctx, "placer-example-db-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := explanation.Decode(kc("get", "pod", "placer-example-db-0", "-o", `jsonpath={.metadata.annotations.placer\.dev/explanation}`))
	if err != nil || exp.Node != db0.Spec.NodeName || exp.Chosen == nil {
		t.Errorf("placer-example-db-0 on %s explained as %+v (%v)", db0.Spec.NodeName, exp, err)
	}
	if web := kc("get", "events", "--field-selector", "reason=Explained,involvedObject.name="+pods.Items[len(pods.Items)-1].Name); strings.Contains(web, "Explained") {
		t.Errorf("a web pod, which did not ask, was explained:\n%s", web)
	}

	// What would each profile do on this cluster?
	whatIfOnSnapshot(t, bench, kubeconfig, tmp, kc)

	// Ctrl-C: everything stops and the cluster's files go.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Errorf("cluster up after Ctrl-C: %v\n%s", err, stderr.String())
	}
	if _, err := os.Stat(filepath.Dir(kubeconfig)); !os.IsNotExist(err) {
		t.Errorf("the cluster's directory %s is still there: %v", filepath.Dir(kubeconfig), err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "placer-controlplane-*")); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}

	// Bad flags stop it before anything starts, naming the flag and value.
	for args, want := range map[string]string{
		"--zones=0":         "--zones=0: want 1 to 26",
		"--node-cpu=lots":   `invalid value "lots" for flag -node-cpu: want a quantity such as 8 or 32Gi, got "lots"`,
		"--node-memory=-1G": "--node-memory=-1G: want a positive quantity",
	} {
		out, err := exec.Command(bench, "cluster", "up", args).CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("cluster up %s: %v\n%s\nwant %q", args, err, out, want)
		}
	}
}
