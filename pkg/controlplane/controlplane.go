// Package controlplane runs a Kubernetes control plane inside the calling
// process: an embedded etcd and a real kube-apiserver, with no binaries to
// download and no Docker. Tests, the benchmark harness and the local cluster
// all start their API server here.
//
// What it sets up, and why:
//   - Every file it writes lives in one temporary directory (0700), removed by
//     Stop. etcd's client socket is there too, unless that path is too long
//     for a socket; it then gets a 0700 directory of its own.
//   - etcd has no client authentication, so it listens on a Unix socket (0600)
//     only, never on a TCP port another local user could reach; it has no
//     peer or metrics listener. The API server is the only client.
//   - The TaintNodesByCondition admission plugin is off: with no kubelet to
//     report Ready, it would keep every new node tainted not-ready.
//   - The ServiceAccount admission plugin is off: there is no controller to
//     create the "default" service account a pod would otherwise need.
//   - Authorization is RBAC, with the bootstrap roles the real API server
//     creates (system:kube-scheduler and friends), so RBAC manifests can be
//     tested for real. Clients authenticate with certificates from the
//     control plane's own authority; Kubeconfig mints one for any user.
//   - klog is left as the caller set it. Unlike the upstream test server, this
//     package imports nothing that raises klog's verbosity.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/embed"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilversion "k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apimachinery/pkg/util/wait"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	basecompatibility "k8s.io/component-base/compatibility"
	logsapi "k8s.io/component-base/logs/api/v1"
	baseversion "k8s.io/component-base/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

// DefaultDisabledAdmissionPlugins are switched off unless Options says
// otherwise; see the package documentation for why.
var DefaultDisabledAdmissionPlugins = []string{"TaintNodesByCondition", "ServiceAccount"}

// AdminUser is the identity of the control plane's admin credentials, a
// member of system:masters.
const AdminUser = "placer-admin"

const frontProxyUser = "front-proxy-client"

// Options configure Start. The zero value is ready to use.
type Options struct {
	// TempDir is where the control plane's own directory is made; empty means
	// the system's temporary directory.
	TempDir string
	// DisableAdmissionPlugins replaces DefaultDisabledAdmissionPlugins when not nil.
	DisableAdmissionPlugins []string
	// APIServerFlags are passed to kube-apiserver as on its command line
	// ("--flag=value") after Placer's own, so they win.
	APIServerFlags []string
	// Fsync makes etcd sync its log to disk on every write, as a real etcd
	// (and upstream scheduler_perf's) does. Off by default: a throwaway
	// database gains nothing from it, and it slows every write.
	Fsync bool
}

// ControlPlane is a running etcd and kube-apiserver.
type ControlPlane struct {
	// Dir holds every file of this control plane (etcd's socket may be
	// elsewhere, see etcdSocketPath); Stop removes it.
	Dir string
	// Config connects as the admin user (system:masters).
	Config *rest.Config
	// KubeconfigPath is a kubeconfig file for the admin user, usable by kubectl.
	KubeconfigPath string
	// URL is the API server's address.
	URL string

	serverCA *authority
	clientCA *authority
	etcd     *embed.Etcd
	// etcdURL is etcd's client socket as a unix:// URL.
	etcdURL string
	// sockDir, when set, is a directory of its own for etcd's socket,
	// removed by Stop like Dir.
	sockDir  string
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	stopping atomic.Bool
	stopErr  error
}

// logsReapply makes repeated API server starts in one process tolerate the
// logging configuration having been applied already.
var logsReapply sync.Once

// Start starts etcd and kube-apiserver and returns once the API server is
// healthy and its default namespace exists. On error nothing is left behind.
func Start(ctx context.Context, opts Options) (cp *ControlPlane, err error) {
	logsReapply.Do(func() { logsapi.ReapplyHandling = logsapi.ReapplyHandlingIgnoreUnchanged })

	dir, err := os.MkdirTemp(opts.TempDir, "placer-controlplane-")
	if err != nil {
		return nil, fmt.Errorf("making the control plane's directory: %w", err)
	}
	// A local of its own: the named result is nil by the time a deferred
	// clean-up after a failed start runs.
	c := &ControlPlane{Dir: dir, done: make(chan error, 1)}
	defer func() {
		if err != nil {
			_ = c.Stop()
		}
	}()

	if err := c.startEtcd(opts); err != nil {
		return nil, err
	}
	if err := c.startAPIServer(ctx, opts); err != nil {
		return nil, err
	}
	return c, nil
}

func (cp *ControlPlane) startEtcd(opts Options) error {
	cfg := embed.NewConfig()
	cfg.Name = "placer"
	cfg.Dir = filepath.Join(cp.Dir, "etcd")
	// A throwaway database: durability buys nothing and fsync costs a lot.
	cfg.UnsafeNoFsync = !opts.Fsync
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(etcdLogger(&cp.stopping))
	sock, err := cp.etcdSocketPath()
	if err != nil {
		return err
	}
	// etcd has no client authentication here, so it must not be reachable by
	// anyone but this process's user: it listens on a Unix socket in a 0700
	// directory (the socket itself 0600, below) rather than on a loopback TCP
	// port, which every local user could connect to.
	client := url.URL{Scheme: "unix", Path: sock}
	cfg.ListenClientUrls = []url.URL{client}
	// embed insists on advertised URLs of the form host:port, which a socket
	// path is not, and refuses a nil list when it listens. A single member
	// never dials its own advertised URLs, so an empty list is enough; the API
	// server is given the socket's URL directly (etcdURL).
	cfg.AdvertiseClientUrls = []url.URL{}
	cfg.ListenClientHttpUrls = nil
	// No peer listener at all: a one-member cluster has no peer to talk to,
	// and embed would listen on the peer URL's host only (a socket path would
	// be dropped). The initial cluster still needs a peer URL to name the
	// member; this one is never listened on nor dialled.
	cfg.ListenPeerUrls = nil
	peer := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.AdvertisePeerUrls = []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// Nor a metrics listener: nothing scrapes it.
	cfg.ListenMetricsUrls = nil
	// Keep the database small in long harness runs.
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "1m"

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("starting etcd: %w", err)
	}
	cp.etcd = e
	cp.etcdURL = client.String()
	// The listener exists once StartEtcd returns. The umask decides the mode
	// net.Listen gives the socket; the 0700 directory already keeps others
	// out, and 0600 says so on the socket as well.
	if err := os.Chmod(sock, 0o600); err != nil {
		return fmt.Errorf("restricting etcd's socket: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return nil
	case err := <-e.Err():
		return fmt.Errorf("etcd failed while starting: %w", err)
	case <-time.After(time.Minute):
		return errors.New("etcd did not become ready within a minute")
	}
}

// maxSocketPath is the longest Unix socket path every supported system
// accepts (sun_path is 108 bytes on Linux, 104 on macOS, with a final NUL).
const maxSocketPath = 103

// etcdSocketPath returns where etcd's client socket goes: in Dir when its path
// is short enough for a socket, else in a directory of its own under the
// system's temporary directory (a test's TempDir can be long). Either
// directory is made by os.MkdirTemp, so it is 0700.
func (cp *ControlPlane) etcdSocketPath() (string, error) {
	const name = "etcd.sock"
	if p := filepath.Join(cp.Dir, name); len(p) <= maxSocketPath {
		return p, nil
	}
	dir, err := os.MkdirTemp("", "placer-etcd-")
	if err != nil {
		return "", fmt.Errorf("making a directory for etcd's socket: %w", err)
	}
	cp.sockDir = dir
	p := filepath.Join(dir, name)
	if len(p) > maxSocketPath {
		return "", fmt.Errorf("etcd's socket path %s is %d bytes long, more than the %d a Unix socket allows: set TMPDIR to a shorter directory", p, len(p), maxSocketPath)
	}
	return p, nil
}

func (cp *ControlPlane) startAPIServer(ctx context.Context, opts Options) error {
	certDir := filepath.Join(cp.Dir, "pki")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	paths, err := cp.writeCredentials(certDir)
	if err != nil {
		return err
	}

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening for the API server: %w", err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	cp.URL = "https://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	disabled := DefaultDisabledAdmissionPlugins
	if opts.DisableAdmissionPlugins != nil {
		disabled = opts.DisableAdmissionPlugins
	}
	flags := []string{
		"--etcd-servers=" + cp.etcdURL,
		"--etcd-prefix=/placer",
		"--bind-address=127.0.0.1",
		"--cert-dir=" + certDir,
		"--tls-cert-file=" + paths.servingCert,
		"--tls-private-key-file=" + paths.servingKey,
		"--client-ca-file=" + paths.clientCA,
		"--requestheader-client-ca-file=" + paths.proxyCA,
		"--requestheader-allowed-names=" + frontProxyUser,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + paths.proxyCert,
		"--proxy-client-key-file=" + paths.proxyKey,
		"--authorization-mode=RBAC",
		"--service-account-signing-key-file=" + paths.saKey,
		"--service-account-key-file=" + paths.saKey,
		"--service-account-issuer=https://placer.local",
		"--service-cluster-ip-range=10.0.0.0/16",
		"--disable-admission-plugins=" + strings.Join(disabled, ","),
		// The harness creates objects as fast as it can.
		"--max-requests-inflight=3000",
		"--max-mutating-requests-inflight=1000",
		"--enable-priority-and-fairness=false",
	}
	flags = append(flags, opts.APIServerFlags...)

	s := options.NewServerRunOptions()
	// A registry of its own, not the process-wide default: a scheduler
	// running in the same process registers there too.
	globals := basecompatibility.NewComponentGlobalsRegistry()
	binary := utilversion.MustParse(baseversion.DefaultKubeBinaryVersion)
	effective := basecompatibility.NewEffectiveVersion(binary, false, binary.SubtractMinor(3), binary.SubtractMinor(3))
	gate := utilfeature.DefaultMutableFeatureGate.DeepCopy()
	// Emulate the version the process's feature gates emulate, as upstream's
	// test API server does: a gate turned off that is locked on in this
	// version (scheduler_perf's SchedulerQueueingHints=false) needs an older one.
	effective.SetEmulationVersion(gate.EmulationVersion())
	if err := globals.Register(basecompatibility.DefaultKubeComponent, effective, gate); err != nil {
		return err
	}
	s.GenericServerRunOptions.ComponentGlobalsRegistry = globals

	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	for _, f := range s.Flags().FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(flags); err != nil {
		return fmt.Errorf("kube-apiserver flags: %w", err)
	}
	if err := globals.Set(); err != nil {
		return fmt.Errorf("kube-apiserver feature gates: %w", err)
	}
	s.SecureServing.Listener = listener
	s.SecureServing.BindPort = port

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cp.cancel = cancel
	completed, err := s.Complete(runCtx)
	if err != nil {
		return fmt.Errorf("completing kube-apiserver options: %w", err)
	}
	if errs := completed.Validate(); len(errs) > 0 {
		return fmt.Errorf("kube-apiserver options: %v", errors.Join(errs...))
	}
	config, err := app.NewConfig(completed)
	if err != nil {
		return fmt.Errorf("kube-apiserver config: %w", err)
	}
	completedConfig, err := config.Complete()
	if err != nil {
		return fmt.Errorf("completing kube-apiserver config: %w", err)
	}
	server, err := app.CreateServerChain(completedConfig)
	if err != nil {
		return fmt.Errorf("creating kube-apiserver: %w", err)
	}
	prepared, err := server.PrepareRun()
	if err != nil {
		return fmt.Errorf("preparing kube-apiserver: %w", err)
	}
	go func() { cp.done <- prepared.Run(runCtx) }()

	if err := cp.writeAdminKubeconfig(); err != nil {
		return err
	}
	return cp.waitReady(ctx)
}

type credentialPaths struct {
	servingCert, servingKey, clientCA, saKey string
	// The front proxy's CA and client certificate: real clusters have them,
	// and components with delegated authentication (the scheduler's secure
	// port) complain on every sync when the API server publishes none.
	proxyCA, proxyCert, proxyKey string
}

func (cp *ControlPlane) writeCredentials(dir string) (credentialPaths, error) {
	p := credentialPaths{
		servingCert: filepath.Join(dir, "apiserver.crt"),
		servingKey:  filepath.Join(dir, "apiserver.key"),
		clientCA:    filepath.Join(dir, "client-ca.crt"),
		saKey:       filepath.Join(dir, "service-account.key"),
		proxyCA:     filepath.Join(dir, "front-proxy-ca.crt"),
		proxyCert:   filepath.Join(dir, "front-proxy-client.crt"),
		proxyKey:    filepath.Join(dir, "front-proxy-client.key"),
	}
	var err error
	if cp.serverCA, err = newAuthority("placer-serving-ca"); err != nil {
		return p, err
	}
	if cp.clientCA, err = newAuthority("placer-client-ca"); err != nil {
		return p, err
	}
	cert, key, err := cp.serverCA.issue("kube-apiserver", nil, []string{"127.0.0.1", "localhost", "::1"})
	if err != nil {
		return p, err
	}
	proxyCA, err := newAuthority("placer-front-proxy-ca")
	if err != nil {
		return p, err
	}
	proxyCert, proxyKey, err := proxyCA.issue(frontProxyUser, nil, nil)
	if err != nil {
		return p, err
	}
	files := map[string][]byte{
		p.servingCert: cert, p.servingKey: key, p.clientCA: cp.clientCA.pem,
		p.proxyCA: proxyCA.pem, p.proxyCert: proxyCert, p.proxyKey: proxyKey,
	}
	for path, data := range files {
		if err := writeFile(path, data); err != nil {
			return p, err
		}
	}
	return p, writeKeyFile(p.saKey)
}

func (cp *ControlPlane) writeAdminKubeconfig() error {
	data, err := cp.Kubeconfig(AdminUser, "system:masters")
	if err != nil {
		return err
	}
	cp.KubeconfigPath = filepath.Join(cp.Dir, "kubeconfig")
	if err := writeFile(cp.KubeconfigPath, data); err != nil {
		return err
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(data)
	if err != nil {
		return err
	}
	// The harness and tests create thousands of objects: client-side rate
	// limiting would measure the limiter, not the server.
	cfg.QPS, cfg.Burst = 5000, 5000
	cp.Config = cfg
	return nil
}

// Kubeconfig returns a kubeconfig for user in groups, authenticated by a
// client certificate the API server trusts. RBAC decides what it may do.
func (cp *ControlPlane) Kubeconfig(user string, groups ...string) ([]byte, error) {
	cert, key, err := cp.clientCA.issue(user, groups, nil)
	if err != nil {
		return nil, fmt.Errorf("issuing a client certificate for %s: %w", user, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["placer"] = &clientcmdapi.Cluster{Server: cp.URL, CertificateAuthorityData: cp.serverCA.pem}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}
	cfg.Contexts["placer"] = &clientcmdapi.Context{Cluster: "placer", AuthInfo: user}
	cfg.CurrentContext = "placer"
	return clientcmd.Write(*cfg)
}

// waitReady waits for /readyz and for the default namespace, which the API
// server creates in a post-start hook; before that, creating objects in it fails.
func (cp *ControlPlane) waitReady(ctx context.Context) error {
	client, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		return err
	}
	var last error
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-cp.done:
			cp.done <- err // Stop reads it again
			return false, fmt.Errorf("kube-apiserver exited while starting: %v", err)
		default:
		}
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			last = fmt.Errorf("%w: %s", err, body)
			return false, nil
		}
		if _, err := client.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
			last = err
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("kube-apiserver did not become ready (last: %v): %w", last, err)
	}
	return nil
}

// Stop shuts the API server and etcd down and removes Dir. It is safe to
// call more than once and on a partly started control plane.
func (cp *ControlPlane) Stop() error {
	cp.stopOnce.Do(func() {
		cp.stopping.Store(true)
		var errs []error
		if cp.cancel != nil {
			cp.cancel()
			select {
			case err := <-cp.done:
				if err != nil && !errors.Is(err, context.Canceled) {
					errs = append(errs, fmt.Errorf("kube-apiserver: %w", err))
				}
			case <-time.After(time.Minute):
				errs = append(errs, errors.New("kube-apiserver did not stop within a minute"))
			}
		}
		if cp.etcd != nil {
			cp.etcd.Close()
		}
		for _, d := range []string{cp.Dir, cp.sockDir} {
			if d == "" {
				continue
			}
			if err := os.RemoveAll(d); err != nil {
				errs = append(errs, err)
			}
		}
		cp.stopErr = errors.Join(errs...)
	})
	return cp.stopErr
}
