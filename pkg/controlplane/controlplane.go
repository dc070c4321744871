// Package controlplane runs a Kubernetes control plane inside the calling
// process: an embedded etcd and a real kube-apiserver, with no binaries to
// download and no Docker. Tests, the benchmark harness and the local cluster
// all start their API server here.
//
// What it sets up, and why:
//   - Every file it writes lives in one temporary directory, removed by Stop.
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
	// Dir holds every file of this control plane; Stop removes it.
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
	peer, client, err := freeLocalURLs()
	if err != nil {
		return err
	}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// Keep the database small in long harness runs.
	cfg.AutoCompactionMode = "periodic"
	cfg.AutoCompactionRetention = "1m"

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return fmt.Errorf("starting etcd: %w", err)
	}
	cp.etcd = e
	select {
	case <-e.Server.ReadyNotify():
		return nil
	case err := <-e.Err():
		return fmt.Errorf("etcd failed while starting: %w", err)
	case <-time.After(time.Minute):
		return errors.New("etcd did not become ready within a minute")
	}
}

// freeLocalURLs picks two free loopback ports for etcd's peer and client
// URLs. etcd wants URLs, not listeners, so there is a short window in which
// another process could take a port; etcd then fails to start with a clear error.
func freeLocalURLs() (peer, client url.URL, err error) {
	var ports [2]int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return url.URL{}, url.URL{}, fmt.Errorf("finding a free port for etcd: %w", err)
		}
		listeners = append(listeners, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	mk := func(p int) url.URL {
		return url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))}
	}
	return mk(ports[0]), mk(ports[1]), nil
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
		"--etcd-servers=" + cp.etcd.Server.Cluster().ClientURLs()[0],
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
		if err := os.RemoveAll(cp.Dir); err != nil {
			errs = append(errs, err)
		}
		cp.stopErr = errors.Join(errs...)
	})
	return cp.stopErr
}
