// Package imagetest checks what hack/image-archive writes the way a
// registry and a node see it, for pkg/imagearchive's unit tests and the
// integration test of the real scheduler's image: the OCI layout pushed as
// crane push DIR REF pushes it, images pulled back per platform, and an
// image's file system read.
package imagetest

import (
	"archive/tar"
	"io"
	"log"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// Push starts a registry (go-containerregistry's, in process, closed when
// the test ends) and pushes to repo:tag there what crane push DIR REF
// pushes of the OCI layout in dir: its index.json's single entry, which
// must be an index. It returns the pushed reference, the layout's
// index.json, and the index pulled back, validated.
func Push(t *testing.T, dir, repoTag string) (name.Tag, *v1.IndexManifest, v1.ImageIndex) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	ref, err := name.NewTag(u.Host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("the OCI layout: %v", err)
	}
	top, err := lp.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Manifests) != 1 || !top.Manifests[0].MediaType.IsIndex() {
		t.Fatalf("layout index.json: %+v, want one entry, an index", top.Manifests)
	}
	idx, err := lp.ImageIndex(top.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatalf("push: %v", err)
	}
	pulled, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(pulled); err != nil {
		t.Fatalf("the pulled index does not validate: %v", err)
	}
	return ref, top, pulled
}

// Pull pulls the image for os/arch from ref as a node would, and checks
// its digests, sizes and diff IDs.
func Pull(t *testing.T, ref name.Reference, os, arch string) v1.Image {
	t.Helper()
	img, err := remote.Image(ref, remote.WithPlatform(v1.Platform{OS: os, Architecture: arch}))
	if err != nil {
		t.Fatalf("pull %s/%s: %v", os, arch, err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("%s/%s does not validate (digests, sizes, diff IDs): %v", os, arch, err)
	}
	return img
}

// File is one entry of an image's file system.
type File struct {
	Type byte // tar.TypeReg, tar.TypeDir, ...
	Mode int64
	Data []byte
}

// Files reads the image's flattened file system, by absolute path.
func Files(t *testing.T, img v1.Image) map[string]File {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]File{}
	Walk(t, rc, func(h *tar.Header, data []byte) {
		files["/"+strings.TrimSuffix(h.Name, "/")] = File{Type: h.Typeflag, Mode: h.Mode, Data: data}
	})
	return files
}

// Walk calls f with each entry of the tar stream r and its contents,
// failing the test on a read error.
func Walk(t *testing.T, r io.Reader, f func(h *tar.Header, data []byte)) {
	t.Helper()
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		f(h, data)
	}
}
