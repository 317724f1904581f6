package auth_test

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/rolegate/rolegate/internal/auth"
	"github.com/rolegate/rolegate/internal/auth/authtest"
)

const (
	issuer   = "https://id.example.test"
	audience = "rolegate"
)

func verifier(t *testing.T, keys []auth.KeyConfig) *auth.JWTVerifier {
	t.Helper()
	v, err := auth.NewJWTVerifier(auth.JWTConfig{Issuer: issuer, Audience: audience, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// with returns valid claims changed by the edits; a nil value removes a claim.
func with(edits map[string]any) map[string]any {
	c := authtest.Claims("u-ann", issuer, audience)
	for k, v := range edits {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func TestVerify(t *testing.T) {
	k := authtest.NewKeys(t)
	v := verifier(t, []auth.KeyConfig{
		{Algorithm: auth.RS256, File: k.RSAFile, ID: "rsa-1"},
		{Algorithm: auth.ES256, File: k.ECFile},
		{Algorithm: auth.HS256, File: k.SecretFile},
	})
	type claims = map[string]any
	rs := claims{"alg": "RS256", "typ": "JWT", "kid": "rsa-1"}
	es, hs := claims{"alg": "ES256"}, claims{"alg": "HS256"}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustPKIX(t, k)})
	sign := func(header, edits claims, key any) string { return authtest.Sign(t, header, with(edits), key) }
	valid := sign(rs, nil, k.RSA)
	at := func(claim string, d time.Duration) claims { return claims{claim: time.Now().Add(d).Unix()} }
	invalid := auth.ErrInvalidCredential
	tests := []struct {
		name   string
		token  string
		wantIs error // nil: valid
	}{
		{"RS256", valid, nil},
		{"RS256 without kid", sign(claims{"alg": "RS256"}, nil, k.RSA), nil},
		{"ES256", sign(es, nil, k.EC), nil},
		{"HS256", sign(hs, nil, k.Secret), nil},
		{"audience in a list", sign(rs, claims{"aud": []string{"x", audience}}, k.RSA), nil},
		{"expired within the leeway", sign(rs, at("exp", -10*time.Second), k.RSA), nil},
		{"expired", sign(rs, at("exp", -2*time.Minute), k.RSA), jwt.TokenExpiredError()},
		{"not yet valid", sign(rs, at("nbf", 2*time.Minute), k.RSA), jwt.TokenNotYetValidError()},
		{"issued in the future", sign(rs, at("iat", 2*time.Minute), k.RSA), jwt.InvalidIssuedAtError()},
		{"no expiry", sign(rs, claims{"exp": nil}, k.RSA), jwt.MissingRequiredClaimError()},
		{"wrong issuer", sign(rs, claims{"iss": "https://evil.test"}, k.RSA), jwt.InvalidIssuerError()},
		{"no issuer", sign(rs, claims{"iss": nil}, k.RSA), jwt.InvalidIssuerError()},
		{"wrong audience", sign(rs, claims{"aud": "other"}, k.RSA), jwt.InvalidAudienceError()},
		{"no subject", sign(rs, claims{"sub": nil}, k.RSA), invalid},
		{"empty subject", sign(rs, claims{"sub": ""}, k.RSA), invalid},
		{"wrong key", sign(rs, nil, k.OtherRSA), invalid},
		{"wrong kid", sign(claims{"alg": "RS256", "kid": "rsa-2"}, nil, k.RSA), invalid},
		{"alg none", sign(claims{"alg": "none"}, nil, nil), invalid},
		{"alg none with a signature", swapHeader(t, valid, claims{"alg": "none"}), invalid},
		{"alg None", sign(claims{"alg": "None"}, nil, nil), invalid},
		{"no alg", sign(claims{"typ": "JWT"}, nil, nil), invalid},
		{"RS512 not allowed", sign(claims{"alg": "RS512"}, nil, k.RSA), invalid},
		{"HS256 with the RSA public key as secret", sign(hs, nil, rsaPEM), invalid},
		{"ES256 header on an RS256 signature", swapHeader(t, valid, es), invalid},
		{"crit header", sign(claims{"alg": "RS256", "crit": []string{"exp"}, "exp": 1}, nil, k.RSA), invalid},
		{"tampered payload", swapClaims(t, valid, with(claims{"sub": "u-root"})), invalid},
		{"not a JWS", "abc.def", invalid},
		{"JSON serialization", `{"payload":"e30","signatures":[]}`, invalid},
		{"too long", strings.Repeat("a", auth.MaxTokenBytes) + "..", invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.Verify(context.Background(), tt.token)
			if tt.wantIs == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if id.Subject != "u-ann" || id.Service || id.Claims["iss"] != issuer {
					t.Fatalf("identity = %+v", id)
				}
				return
			}
			if !errors.Is(err, auth.ErrInvalidCredential) || !errors.Is(err, tt.wantIs) {
				t.Fatalf("error = %v, want one wrapping ErrInvalidCredential and %v", err, tt.wantIs)
			}
			if id.Subject != "" {
				t.Fatalf("an invalid token gave subject %q", id.Subject)
			}
		})
	}
}

func TestVerifyErrorsNeverCarryTheToken(t *testing.T) {
	k := authtest.NewKeys(t)
	v := verifier(t, []auth.KeyConfig{{Algorithm: auth.RS256, File: k.RSAFile}})
	token := authtest.Sign(t, map[string]any{"alg": "RS256"}, with(nil), k.OtherRSA)
	_, err := v.Verify(context.Background(), token)
	if err == nil {
		t.Fatal("a token signed by another key verified")
	}
	for _, part := range strings.Split(token, ".") {
		if strings.Contains(err.Error(), part) {
			t.Fatalf("error %q contains part of the token", err)
		}
	}
}

func TestJWKS(t *testing.T) {
	k := authtest.NewKeys(t)
	jwks := k.Write(t, "jwks.json", []byte(`{"keys": [
		`+jwkRSA(k, "rsa-1", `"alg": "RS256", "use": "sig",`)+`,
		`+jwkRSA(k, "enc-1", `"use": "enc",`)+`,
		{"kty": "oct", "kid": "hs-1", "k": "`+b64(k.Secret)+`"}
	]}`))
	v, err := auth.NewJWTVerifier(auth.JWTConfig{Issuer: issuer, Audience: audience, JWKSFile: jwks})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header map[string]any
		key    any
		ok     bool
	}{
		{"RSA key by kid", map[string]any{"alg": "RS256", "kid": "rsa-1"}, k.RSA, true},
		{"oct key, alg inferred", map[string]any{"alg": "HS256", "kid": "hs-1"}, k.Secret, true},
		{"kid of another key", map[string]any{"alg": "RS256", "kid": "hs-1"}, k.RSA, false},
		{"encryption key", map[string]any{"alg": "RS256", "kid": "enc-1"}, k.RSA, false},
		{"wrong key", map[string]any{"alg": "RS256", "kid": "rsa-1"}, k.OtherRSA, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), authtest.Sign(t, tt.header, with(nil), tt.key))
			if (err == nil) != tt.ok {
				t.Fatalf("error = %v, want ok = %v", err, tt.ok)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   string
		wantIs error
	}{
		{"bearer", []string{"Bearer abc.def.ghi"}, "abc.def.ghi", nil},
		{"scheme is case-insensitive", []string{"bearer abc"}, "abc", nil},
		{"no header", nil, "", auth.ErrNoCredential},
		{"repeated", []string{"Bearer a", "Bearer b"}, "", auth.ErrInvalidCredential},
		{"merged", []string{"Bearer a, Bearer b"}, "", auth.ErrInvalidCredential},
		{"basic", []string{"Basic dTpw"}, "", auth.ErrInvalidCredential},
		{"no token", []string{"Bearer "}, "", auth.ErrInvalidCredential},
		{"no space", []string{"Bearerabc"}, "", auth.ErrInvalidCredential},
		{"two spaces", []string{"Bearer  abc"}, "", auth.ErrInvalidCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.BearerToken(tt.values)
			if !errors.Is(err, tt.wantIs) || (tt.wantIs == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantIs)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("token (-want +got):\n%s", diff)
			}
		})
	}
}

func mustPKIX(t *testing.T, k *authtest.Keys) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.RSA.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// swapHeader replaces a compact JWS's header, keeping its payload and signature.
func swapHeader(t *testing.T, token string, header map[string]any) string {
	t.Helper()
	parts := strings.SplitN(token, ".", 3)
	return authtest.Encode(t, header) + "." + parts[1] + "." + parts[2]
}

// swapClaims replaces a compact JWS's payload, keeping its header and signature.
func swapClaims(t *testing.T, token string, claims map[string]any) string {
	t.Helper()
	parts := strings.SplitN(token, ".", 3)
	return parts[0] + "." + authtest.Encode(t, claims) + "." + parts[2]
}

// jwkRSA returns the public half of the test's RSA key as a JWK with extra members.
func jwkRSA(k *authtest.Keys, kid, extra string) string {
	pub := k.RSA.PublicKey
	return fmt.Sprintf(`{"kty": "RSA", "kid": %q, %s "n": %q, "e": %q}`,
		kid, extra, b64(pub.N.Bytes()), b64(big.NewInt(int64(pub.E)).Bytes()))
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// TestAlgorithmConfusion holds the classic attack: a verifier with only an RSA public
// key, and a token that names HS256 and uses that public key, as published, as the
// HMAC secret.
func TestAlgorithmConfusion(t *testing.T) {
	k := authtest.NewKeys(t)
	v := verifier(t, []auth.KeyConfig{{Algorithm: auth.RS256, File: k.RSAFile}})
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: mustPKIX(t, k)})
	for name, secret := range map[string][]byte{"PEM": pemBytes, "DER": mustPKIX(t, k)} {
		t.Run(name, func(t *testing.T) {
			token := authtest.Sign(t, map[string]any{"alg": "HS256"}, with(nil), secret)
			if _, err := v.Verify(context.Background(), token); !errors.Is(err, auth.ErrInvalidCredential) {
				t.Fatalf("error = %v, want ErrInvalidCredential", err)
			}
		})
	}
}

// BenchmarkVerify measures the verification of one token per algorithm.
func BenchmarkVerify(b *testing.B) {
	k := authtest.NewKeys(b)
	v, err := auth.NewJWTVerifier(auth.JWTConfig{Issuer: issuer, Audience: audience, Keys: []auth.KeyConfig{
		{Algorithm: auth.RS256, File: k.RSAFile},
		{Algorithm: auth.ES256, File: k.ECFile},
		{Algorithm: auth.HS256, File: k.SecretFile},
	}})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		alg string
		key any
	}{{"RS256", k.RSA}, {"ES256", k.EC}, {"HS256", k.Secret}} {
		token := authtest.Sign(b, map[string]any{"alg": tc.alg}, authtest.Claims("u-ann", issuer, audience), tc.key)
		b.Run(tc.alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(context.Background(), token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
