// Package schedproc runs the placer-scheduler binary as a child process
// against a control plane, the way an admin runs it, for tests that must
// go through the binary: its flags, its config file, its HTTP endpoints.
package schedproc

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// EnvBinary names an already built placer-scheduler (make test sets it).
// Without it, Binary builds one once per test process.
const EnvBinary = "PLACER_SCHEDULER_BIN"

var (
	buildMu sync.Mutex
	builds  = map[string]string{}
)

// Binary returns the path of the placer-scheduler binary to test.
func Binary(t testing.TB) string {
	t.Helper()
	return Tool(t, EnvBinary, "placer-scheduler", "github.com/placer-dev/placer/cmd/scheduler")
}

// Tool returns the binary named by the environment variable env, or builds
// pkg from this module once per test process (removed when it exits) and
// returns that. make test builds the binaries first and sets the variables,
// so that what is tested is what make build ships.
func Tool(t testing.TB, env, name, pkg string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", env, p, err)
		}
		return p
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := builds[pkg]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "placer-test-bin-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = RepoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("building %s: %v\n%s", pkg, err, b)
	}
	builds[pkg] = out
	return out
}

// CleanupBuilds removes the binaries Tool built; call it from TestMain.
func CleanupBuilds() {
	buildMu.Lock()
	defer buildMu.Unlock()
	for _, p := range builds {
		os.RemoveAll(filepath.Dir(p))
	}
}

// RepoRoot is the repository's top directory, found from this file.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// ConfigWithKubeconfig reads a KubeSchedulerConfiguration file and writes a
// copy into dir that differs only in clientConnection.kubeconfig. With
// --config, the scheduler ignores --kubeconfig, and the shipped file leaves
// the field empty so that in a cluster the pod's own credentials are used.
func ConfigWithKubeconfig(t testing.TB, src, kubeconfig, dir string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	cc, _ := cfg["clientConnection"].(map[string]any)
	if cc == nil {
		cc = map[string]any{}
	}
	cc["kubeconfig"] = kubeconfig
	cfg["clientConnection"] = cc
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "scheduler-config.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Process is a running placer-scheduler.
type Process struct {
	// Port is the secure port serving /healthz and /metrics.
	Port int
	// LogPath holds everything the process wrote.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start runs the binary with the given config file and kubeconfig (used for
// delegated authentication and authorisation of its endpoints) on a free
// secure port, and stops it when the test ends. Its output is shown if the
// test fails.
func Start(t testing.TB, configPath, kubeconfig string, extraArgs ...string) *Process {
	t.Helper()
	port := freePort(t)
	p := &Process{Port: port, LogPath: filepath.Join(t.TempDir(), "scheduler.log"), done: make(chan struct{})}
	logFile, err := os.Create(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--config=" + configPath,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--v=1",
	}, extraArgs...)
	p.cmd = exec.Command(Binary(t), args...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("placer-scheduler output (%s):\n%s", p.LogPath, tail(p.LogPath, 60))
		}
	})
	return p
}

// Kill stops the process at once, as a crash or an OOM kill would, and waits for it.
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// WaitHealthy waits for /healthz to answer "ok"; it fails the test if the
// process exits first.
func (p *Process) WaitHealthy(t testing.TB, timeout time.Duration) {
	t.Helper()
	client := insecureClient(nil)
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if done, err := p.Exited(); done {
			return false, fmt.Errorf("placer-scheduler exited: %v", err)
		}
		body, code, err := get(client, p.url("/healthz"))
		return err == nil && code == http.StatusOK && string(body) == "ok", nil
	})
	if err != nil {
		t.Fatalf("placer-scheduler on port %d not healthy: %v\n%s", p.Port, err, tail(p.LogPath, 40))
	}
}

// Get fetches a path from the secure port with the client certificate of
// cfg (nil: anonymous) and returns the body and status code.
func (p *Process) Get(cfg *rest.Config, path string) ([]byte, int, error) {
	return get(insecureClient(cfg), p.url(path))
}

func (p *Process) url(path string) string {
	return "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Port)) + path
}

// insecureClient trusts any serving certificate: the scheduler makes a
// self-signed one at start. It presents cfg's client certificate, if any.
func insecureClient(cfg *rest.Config) *http.Client {
	tlsCfg := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // self-signed test endpoint
	if cfg != nil && len(cfg.CertData) > 0 {
		if pair, err := tls.X509KeyPair(cfg.CertData, cfg.KeyData); err == nil {
			tlsCfg.Certificates = []tls.Certificate{pair}
		}
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
}

func get(client *http.Client, url string) ([]byte, int, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return body, resp.StatusCode, err
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// RunToExit runs the binary with args and returns its combined output and
// exit error, for tests of start-up failures. It fails the test if the
// binary is still running after timeout: a bad configuration must end it.
func RunToExit(t testing.TB, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Binary(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("placer-scheduler %v still running after %v; output:\n%s", args, timeout, out.String())
	}
	return out.String(), err
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := bytes.Split(data, []byte("\n"))
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return string(bytes.Join(all, []byte("\n")))
}
