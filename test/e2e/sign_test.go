package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
)

func TestBundleSignAndVerify(t *testing.T) {
	dir := t.TempDir()
	for _, alg := range bundle.SigningAlgorithms {
		t.Run(alg, func(t *testing.T) {
			sign, verify := bundletest.Keys(t, alg)
			out := filepath.Join(dir, alg+".tar.gz")
			r := run(t, "", "bundle", "build", "-o", out, "--signing-key", sign.KeyFile, "--signing-alg", alg, "policies")
			if r.code != 0 || !strings.Contains(r.stdout, "signed with "+alg) {
				t.Fatalf("build: exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
			r = run(t, "", "bundle", "verify", out, "--verification-key", verify.KeyFile, "--verification-alg", alg)
			if r.code != 0 || !strings.Contains(r.stdout, "signature verified") {
				t.Fatalf("verify: exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
			req := `{"subject":"u-dana","action":"miniprogram:create","resource":{"workspace":"dw-shop"}}`
			r = run(t, req, "decide", "--policy", out, "--data", "examples/memberships.json", "--input", "-")
			if r.code != 0 || !strings.Contains(r.stdout, `"allow":true`) {
				t.Fatalf("decide with the signed bundle: exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestBundleVerifySaysWhatIsWrong(t *testing.T) {
	dir := t.TempDir()
	sign, verify := bundletest.Keys(t, bundle.AlgES256)
	_, otherVerify := bundletest.Keys(t, bundle.AlgES256)
	unsigned, signed := filepath.Join(dir, "unsigned.tar.gz"), filepath.Join(dir, "signed.tar.gz")
	build := [][]string{
		{"bundle", "build", "-o", unsigned, "policies"},
		{"bundle", "build", "-o", signed, "--signing-key", sign.KeyFile, "--signing-alg", "ES256", "policies"},
	}
	for _, args := range build {
		if r := run(t, "", args...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unsigned", []string{unsigned, "--verification-key", verify.KeyFile, "--verification-alg", "ES256"}, "missing .signatures.json"},
		{"another key", []string{signed, "--verification-key", otherVerify.KeyFile, "--verification-alg", "ES256"}, "failed to verify"},
		{"another algorithm", []string{signed, "--verification-key", verify.KeyFile, "--verification-alg", "RS256"}, "failed to verify"},
		{"another scope", []string{signed, "--verification-key", verify.KeyFile, "--verification-alg", "ES256", "--scope", "x"}, "scope mismatch"},
		{"missing key", []string{signed, "--verification-key", filepath.Join(dir, "nope.pem")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", append([]string{"bundle", "verify"}, tt.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want a failure saying %q", r.code, r.stderr, tt.wantErr)
			}
		})
	}
}

func TestBundleBuildRefusesClaimsWithoutKey(t *testing.T) {
	claims := filepath.Join(t.TempDir(), "claims.json")
	if err := os.WriteFile(claims, []byte(`{"scope":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	r := run(t, "", "bundle", "build", "-o", out, "--claims-file", claims, "policies")
	if r.code == 0 || !strings.Contains(r.stderr, "need --signing-key") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestBundleData(t *testing.T) {
	out := filepath.Join(t.TempDir(), "memberships.tar.gz")
	r := run(t, "", "bundle", "data", "--data", "examples/memberships.json", "-o", out)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	r = run(t, "", "bundle", "inspect", out)
	if !strings.Contains(r.stdout, `"memberships"`) || !strings.Contains(r.stdout, `"data": true`) {
		t.Fatalf("inspect: %s", r.stdout)
	}
}
