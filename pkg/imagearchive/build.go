// Package imagearchive builds the placer-scheduler container image without a
// container engine: one layer holding a static binary (and the few files a
// non-root user needs) on an empty base, one image per platform, gathered in
// an OCI image index. write.go writes the result as an OCI layout directory
// and as per-platform archives that docker, podman, kind and crane load.
//
// Everything in the image is derived from its inputs and the Created time
// (file times included), so the same binaries give the same digests.
package imagearchive

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// BinaryPath is where the binary sits in the image, and the entrypoint.
	BinaryPath = "/usr/local/bin/placer-scheduler"
	// UID and GID the image runs as: distroless's "nonroot", which the
	// manifests' securityContext names too.
	UID = 65532
	GID = 65532

	// OCI pre-defined annotation keys, used as config labels.
	LabelVersion  = "org.opencontainers.image.version"
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"
	LabelTitle    = "org.opencontainers.image.title"
)

// Binary is one platform's build of the scheduler.
type Binary struct {
	// OS and Arch as Go names them: linux, amd64 / arm64.
	OS, Arch string
	// Path of a statically linked executable for that platform.
	Path string
}

// ParseBinary reads "os/arch=path", the form the command's --binary flag takes.
func ParseBinary(s string) (Binary, error) {
	plat, file, ok := strings.Cut(s, "=")
	goos, arch, ok2 := strings.Cut(plat, "/")
	if !ok || !ok2 || goos == "" || arch == "" || file == "" {
		return Binary{}, fmt.Errorf("binary %q: want os/arch=path, e.g. linux/amd64=bin/linux_amd64/placer-scheduler", s)
	}
	return Binary{OS: goos, Arch: arch, Path: file}, nil
}

// Options describe the image.
type Options struct {
	Binaries []Binary
	// Version, Revision and Source become the OCI labels of the same names.
	Version, Revision, Source string
	// Created is the image's creation time and the time of every file in it.
	Created time.Time
}

// Build makes one image per binary and an OCI index of them.
func Build(opts Options) (v1.ImageIndex, error) {
	if len(opts.Binaries) == 0 {
		return nil, fmt.Errorf("no binaries: give at least one os/arch=path")
	}
	if opts.Version == "" || opts.Revision == "" || opts.Source == "" {
		return nil, fmt.Errorf("version, revision and source are required (the image's OCI labels)")
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	seen := map[string]bool{}
	var adds []mutate.IndexAddendum
	for _, b := range opts.Binaries {
		plat := b.OS + "/" + b.Arch
		if seen[plat] {
			return nil, fmt.Errorf("two binaries for %s", plat)
		}
		seen[plat] = true
		img, err := buildImage(b, opts)
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: b.OS, Architecture: b.Arch}},
		})
	}
	return mutate.AppendManifests(idx, adds...), nil
}

func buildImage(b Binary, opts Options) (v1.Image, error) {
	if err := checkBinary(b); err != nil {
		return nil, err
	}
	layer, err := binaryLayer(b.Path, opts.Created)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: opts.Created.UTC()}
	cfg := &v1.ConfigFile{
		OS:           b.OS,
		Architecture: b.Arch,
		Created:      created,
		RootFS:       v1.RootFS{Type: "layers"},
		Config: v1.Config{
			User:       fmt.Sprintf("%d:%d", UID, GID),
			Entrypoint: []string{BinaryPath},
			WorkingDir: "/",
			Env:        []string{"PATH=/usr/local/bin"},
			Labels: map[string]string{
				LabelVersion:  opts.Version,
				LabelRevision: opts.Revision,
				LabelSource:   opts.Source,
				LabelCreated:  created.Format(time.RFC3339),
				LabelTitle:    "placer-scheduler",
			},
		},
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return nil, err
	}
	img, err = mutate.Append(img, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: created, CreatedBy: "placer imagearchive: " + BinaryPath + " " + opts.Version},
	})
	if err != nil {
		return nil, err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	return mutate.ConfigMediaType(img, types.OCIConfigJSON), nil
}

// elfMachines maps GOARCH to the ELF machine its binaries declare.
var elfMachines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
}

// checkBinary refuses what would not run in an image with no base: a binary
// for another platform, or one that needs a dynamic loader and a libc (a
// cgo build), which the image does not have. Both would otherwise only show
// on a node, as "exec format error" or "no such file or directory".
func checkBinary(b Binary) error {
	if b.OS != "linux" {
		return fmt.Errorf("%s: os %q: only linux images are built", b.Path, b.OS)
	}
	want, ok := elfMachines[b.Arch]
	if !ok {
		return fmt.Errorf("%s: architecture %q not supported", b.Path, b.Arch)
	}
	f, err := elf.Open(b.Path)
	if err != nil {
		return fmt.Errorf("%s: not an ELF executable: %w", b.Path, err)
	}
	defer f.Close()
	if f.Machine != want {
		return fmt.Errorf("%s is built for %s, not %s/%s", b.Path, f.Machine, b.OS, b.Arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (build it with CGO_ENABLED=0): the image has no libc", b.Path)
		}
	}
	return nil
}

// binaryLayer is the image's only layer, gzip-compressed once in memory:
// go-containerregistry would otherwise compress the stream again each time
// it is read (for the digest, then for every write).
func binaryLayer(binPath string, created time.Time) (v1.Layer, error) {
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return nil, err
	}
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	mtime := created.UTC()
	dir := func(name string, mode int64, uid int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: uid, Gid: uid, ModTime: mtime})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mtime}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	// The user has a name and a home, as in distroless, for anything that
	// looks the uid up; /tmp exists for libraries that want scratch space
	// when no volume is mounted there.
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, GID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", GID)
	steps := []func() error{
		func() error { return dir("etc", 0o755, 0) },
		func() error { return file("etc/passwd", 0o644, []byte(passwd)) },
		func() error { return file("etc/group", 0o644, []byte(group)) },
		func() error { return dir("home", 0o755, 0) },
		func() error { return dir("home/nonroot", 0o700, UID) },
		func() error { return dir("tmp", 0o1777, 0) },
	}
	// The binary's parent directories, top down: usr, usr/local, usr/local/bin.
	var parents []string
	for d := path.Dir(strings.TrimPrefix(BinaryPath, "/")); d != "."; d = path.Dir(d) {
		parents = append([]string{d}, parents...)
	}
	for _, d := range parents {
		steps = append(steps, func() error { return dir(d, 0o755, 0) })
	}
	steps = append(steps, func() error { return file(strings.TrimPrefix(BinaryPath, "/"), 0o755, bin) }, tw.Close)
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := io.Copy(zw, &raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	data := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
