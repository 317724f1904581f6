// Package bundletest makes keys and policy bundles for tests: good ones, and ones
// broken in each way a policy source must refuse.
package bundletest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	opabundle "github.com/open-policy-agent/opa/v1/bundle"

	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/policies"
)

// Keys writes a new key for alg (RS256, ES256 or HS256) to a temporary folder and
// returns the signing and verification settings for it. For HS256 both name the
// same secret file.
func Keys(t testing.TB, alg string) (bundle.Signing, bundle.Verification) {
	t.Helper()
	dir := t.TempDir()
	private, public := filepath.Join(dir, "private.pem"), filepath.Join(dir, "public.pem")
	switch alg {
	case bundle.AlgHS256:
		secret := make([]byte, 32)
		rand.Read(secret)
		public = private
		write(t, private, []byte(base64.StdEncoding.EncodeToString(secret)+"\n"))
	case bundle.AlgRS256:
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		writeKeyPair(t, private, public, key, &key.PublicKey)
	case bundle.AlgES256:
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		writeKeyPair(t, private, public, key, &key.PublicKey)
	default:
		t.Fatalf("bundletest: no keys for algorithm %q", alg)
	}
	return bundle.Signing{KeyFile: private, Algorithm: alg},
		bundle.Verification{KeyFile: public, Algorithm: alg}
}

func writeKeyPair(t testing.TB, privatePath, publicPath string, private, public any) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(private)
	if err != nil {
		t.Fatal(err)
	}
	write(t, privatePath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if der, err = x509.MarshalPKIXPublicKey(public); err != nil {
		t.Fatal(err)
	}
	write(t, publicPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Files returns the embedded policy's Rego files (tests included), with the edits
// applied: each maps a path to its new content, or to "" to remove the file.
func Files(t testing.TB, edits map[string]string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	err := fs.WalkDir(policies.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".rego") {
			return err
		}
		data, err := fs.ReadFile(policies.FS, path)
		fsys[path] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, src := range edits {
		if src == "" {
			delete(fsys, path)
			continue
		}
		fsys[path] = &fstest.MapFile{Data: []byte(src)}
	}
	return fsys
}

// Policy returns the embedded policy with the edits applied (see Files) as a bundle.
func Policy(t testing.TB, edits map[string]string) *opabundle.Bundle {
	t.Helper()
	b, err := policy.FromFS(Files(t, edits), "test")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Compile compiles the embedded policy with the edits applied (see Files); with no
// edits it is the policy rolegate ships.
func Compile(t testing.TB, edits map[string]string) *engine.Policy {
	t.Helper()
	p, err := engine.Compile(context.Background(), Policy(t, edits))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Edit returns the embedded policy file at path with old replaced, failing
// the test when old is not there.
func Edit(t testing.TB, path, old, replacement string) string {
	t.Helper()
	src, err := fs.ReadFile(policies.FS, path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte(old)) {
		t.Fatalf("bundletest: %s does not contain %q", path, old)
	}
	return strings.ReplaceAll(string(src), old, replacement)
}

// Sign returns b signed as s says.
func Sign(t testing.TB, b *opabundle.Bundle, s bundle.Signing) *opabundle.Bundle {
	t.Helper()
	signed, err := bundle.Sign(b, s)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// Tarball returns b written as a bundle tarball.
func Tarball(t testing.TB, b *opabundle.Bundle) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := bundle.Write(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Tamper returns a copy of b whose module at path (such as
// "/rolegate/authz/authz.rego") has src as content, its signature left as it was.
func Tamper(t testing.TB, b *opabundle.Bundle, path, src string) *opabundle.Bundle {
	t.Helper()
	c := *b
	c.Modules = append([]opabundle.ModuleFile(nil), b.Modules...)
	for i, m := range c.Modules {
		if m.URL == path {
			c.Modules[i].Raw = []byte(src)
			return &c
		}
	}
	t.Fatalf("bundletest: no module %s", path)
	return nil
}

// AddModule returns a copy of b with one more module, which its signature (if any)
// does not cover.
func AddModule(b *opabundle.Bundle, path, src string) *opabundle.Bundle {
	c := *b
	c.Modules = append(append([]opabundle.ModuleFile(nil), b.Modules...),
		opabundle.ModuleFile{URL: path, Path: path, Raw: []byte(src)})
	return &c
}
