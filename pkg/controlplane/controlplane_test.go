package controlplane

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// etcd has no client authentication, so nothing but this user may reach it:
// it listens on a 0600 Unix socket in a 0700 directory, on no TCP port, and
// the API server works through that socket.
func TestEtcdListensOnPrivateSocketOnly(t *testing.T) {
	cp := StartForTest(t, Options{})

	cfg := cp.etcd.Config()
	if len(cfg.ListenClientUrls) == 0 {
		t.Fatal("etcd has no client URL")
	}
	for _, u := range cfg.ListenClientUrls {
		if u.Scheme != "unix" {
			t.Errorf("etcd client URL %s, want a unix:// socket", u.String())
		}
	}
	for _, urls := range [][]string{urlStrings(cfg.ListenPeerUrls), urlStrings(cfg.ListenMetricsUrls), urlStrings(cfg.ListenClientHttpUrls)} {
		if len(urls) != 0 {
			t.Errorf("etcd listens on %v, want no peer, metrics or separate HTTP listener", urls)
		}
	}
	if len(cp.etcd.Peers) != 0 {
		t.Errorf("etcd has %d peer listeners, want none", len(cp.etcd.Peers))
	}
	for _, l := range cp.etcd.Clients {
		if n := l.Addr().Network(); n != "unix" {
			t.Errorf("etcd client listener on %s %s, want unix", n, l.Addr())
		}
	}
	if !strings.HasPrefix(cp.etcdURL, "unix:///") {
		t.Errorf("API server's etcd URL %q, want unix:///<path>", cp.etcdURL)
	}

	sock := strings.TrimPrefix(cp.etcdURL, "unix://")
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("%s is %v, want a socket", sock, fi.Mode())
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("etcd socket mode %o, want 600", perm)
	}
	di, err := os.Stat(filepath.Dir(sock))
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("etcd socket's directory mode %o, want 700", perm)
	}

	// The API server stores through the socket: a write and a read back.
	client := kubernetes.NewForConfigOrDie(cp.Config)
	ctx := context.Background()
	ns := &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "through-the-socket"}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	if _, err := client.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("reading the namespace back: %v", err)
	}
}

func urlStrings(us []url.URL) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.String())
	}
	return out
}

// A control plane's directory can be too long for a socket path (a test's
// TempDir, a deep TMPDIR); the socket then goes to a short directory of its
// own, which Stop removes.
func TestEtcdSocketPathFallsBackWhenDirTooLong(t *testing.T) {
	short := &ControlPlane{Dir: t.TempDir()}
	if len(filepath.Join(short.Dir, "etcd.sock")) > maxSocketPath {
		t.Skipf("the test's own TempDir %s is too long for this case", short.Dir)
	}
	p, err := short.etcdSocketPath()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(p) != short.Dir || short.sockDir != "" {
		t.Errorf("short Dir: socket at %s (own dir %q), want inside %s", p, short.sockDir, short.Dir)
	}

	long := &ControlPlane{Dir: filepath.Join(t.TempDir(), strings.Repeat("d", maxSocketPath))}
	p, err = long.etcdSocketPath()
	if err != nil {
		t.Fatal(err)
	}
	if long.sockDir == "" || filepath.Dir(p) != long.sockDir {
		t.Fatalf("long Dir: socket at %s, own dir %q; want a directory of its own", p, long.sockDir)
	}
	if len(p) > maxSocketPath {
		t.Errorf("socket path %s is %d bytes, over %d", p, len(p), maxSocketPath)
	}
	fi, err := os.Stat(long.sockDir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("socket directory mode %o, want 700", perm)
	}
	if err := long.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(long.sockDir); !os.IsNotExist(err) {
		t.Errorf("Stop left %s behind (stat: %v)", long.sockDir, err)
	}
}
