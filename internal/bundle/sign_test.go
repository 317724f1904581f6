package bundle_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"

	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/policy"
)

func TestSignAndVerify(t *testing.T) {
	for _, alg := range bundle.SigningAlgorithms {
		t.Run(alg, func(t *testing.T) {
			sign, verify := bundletest.Keys(t, alg)
			b := bundletest.Policy(t, nil)
			raw := bundletest.Tarball(t, bundletest.Sign(t, b, sign))

			got := readVerified(t, raw, verify)
			if len(got.Signatures.Signatures) != 1 {
				t.Fatalf("read %d signatures, want 1", len(got.Signatures.Signatures))
			}
			if got.Manifest.Revision != b.Manifest.Revision {
				t.Fatalf("revision %q, want %q", got.Manifest.Revision, b.Manifest.Revision)
			}
			want := bundle.Inspect(policy.WithoutTests(b))
			if diff := cmp.Diff(want, bundle.Inspect(got)); diff != "" {
				t.Fatalf("contents differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSignLeavesTheBundleAlone(t *testing.T) {
	sign, _ := bundletest.Keys(t, bundle.AlgES256)
	b := bundletest.Policy(t, nil)
	before := bundle.Inspect(b)
	bundletest.Sign(t, b, sign)
	if diff := cmp.Diff(before, bundle.Inspect(b)); diff != "" {
		t.Fatalf("Sign changed its argument (-before +after):\n%s", diff)
	}
}

func TestVerifyRejects(t *testing.T) {
	sign, verify := bundletest.Keys(t, bundle.AlgES256)
	otherSign, _ := bundletest.Keys(t, bundle.AlgES256)
	b := bundletest.Policy(t, nil)
	signed := bundletest.Sign(t, b, sign)
	claims := filepath.Join(t.TempDir(), "claims.json")
	if err := os.WriteFile(claims, []byte(`{"scope": "staging"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	scoped := sign
	scoped.ClaimsFile = claims
	const authzPath = "/rolegate/authz/authz.rego"
	allowAll := bundletest.Edit(t, "rolegate/authz/authz.rego", "default allow := false", "default allow := true")

	tests := []struct {
		name    string
		raw     []byte
		wantErr string
	}{
		{"unsigned", bundletest.Tarball(t, b), "missing .signatures.json"},
		{"signed with another key", bundletest.Tarball(t, bundletest.Sign(t, b, otherSign)), "failed to verify"},
		{"tampered file", bundletest.Tarball(t, bundletest.Tamper(t, signed, authzPath, allowAll)), "digest mismatch"},
		{
			"file the signature does not cover",
			bundletest.Tarball(t, bundletest.AddModule(signed, "/rolegate/extra.rego", "package rolegate.extra\n")),
			"not included in bundle signature",
		},
		{"another scope", bundletest.Tarball(t, bundletest.Sign(t, b, scoped)), "scope mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vc, err := verify.Config()
			if err != nil {
				t.Fatal(err)
			}
			_, err = bundle.ReadWith(bytes.NewReader(tt.raw), bundle.ReadOptions{Verify: vc})
			if !errors.Is(err, bundle.ErrSignature) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want ErrSignature saying %q", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyScope(t *testing.T) {
	sign, verify := bundletest.Keys(t, bundle.AlgRS256)
	claims := filepath.Join(t.TempDir(), "claims.json")
	if err := os.WriteFile(claims, []byte(`{"scope": "production"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sign.ClaimsFile = claims
	verify.Scope = "production"
	raw := bundletest.Tarball(t, bundletest.Sign(t, bundletest.Policy(t, nil), sign))
	readVerified(t, raw, verify)
}

func TestReadWithTellsParseFromSignature(t *testing.T) {
	sign, verify := bundletest.Keys(t, bundle.AlgHS256)
	raw := bundletest.Tarball(t, bundletest.Sign(t, bundletest.Policy(t, nil), sign))
	vc, err := verify.Config()
	if err != nil {
		t.Fatal(err)
	}
	_, err = bundle.ReadWith(bytes.NewReader(raw[:len(raw)/2]), bundle.ReadOptions{Verify: vc})
	if err == nil || errors.Is(err, bundle.ErrSignature) {
		t.Fatalf("truncated bundle: error = %v, want a read error that is not ErrSignature", err)
	}
}

func TestSignRefuses(t *testing.T) {
	b := bundletest.Policy(t, nil)
	sign, _ := bundletest.Keys(t, bundle.AlgES256)
	tests := []struct {
		name    string
		signing bundle.Signing
		wantErr string
	}{
		{"missing key file", bundle.Signing{KeyFile: "no/such/key.pem"}, "no such file"},
		{"unsupported algorithm", bundle.Signing{KeyFile: sign.KeyFile, Algorithm: "none"}, `algorithm "none"`},
		{"key of another type", bundle.Signing{KeyFile: sign.KeyFile, Algorithm: bundle.AlgRS256}, "sign bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bundle.Sign(b, tt.signing)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func readVerified(t *testing.T, raw []byte, v bundle.Verification) *opabundle.Bundle {
	t.Helper()
	vc, err := v.Config()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.ReadWith(bytes.NewReader(raw), bundle.ReadOptions{Verify: vc})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
