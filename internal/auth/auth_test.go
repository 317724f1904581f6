package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/auth"
	"github.com/rolegate/rolegate/internal/auth/authtest"
)

const serviceToken = "svc-0123456789abcdef0123456789abcdef"

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := auth.Config{
		JWT: auth.JWTConfig{
			Leeway: time.Hour,
			Keys: []auth.KeyConfig{
				{ID: "a", Algorithm: "RS512", File: "k.pem"},
				{ID: "a", Algorithm: auth.HS256},
			},
		},
		ServiceToken: auth.ServiceTokenConfig{File: "token", Env: "TOKEN"},
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("an invalid configuration passed")
	}
	want := []string{
		"jwt.issuer is required",
		"jwt.audience is required",
		"jwt.leeway 1h0m0s is not between 0 and 5m0s",
		`jwt.keys[0].algorithm "RS512" is not one of [HS256 RS256 ES256]`,
		"jwt.keys[1].file is required",
		`jwt.keys[1].id "a" is also jwt.keys[0].id`,
		"service_token: set file or env, not both",
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Fatalf("problems (-want +got):\n%s", diff)
	}
}

func TestConfigValidateNeedsACredential(t *testing.T) {
	var c auth.Config
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "no credential is configured") {
		t.Fatalf("error = %v", err)
	}
}

func TestNewReportsUnusableKeys(t *testing.T) {
	k := authtest.NewKeys(t)
	short := k.Write(t, "short", []byte("too short\n"))
	private := k.Write(t, "private.pem", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	badJWKS := k.Write(t, "jwks.json", []byte(`{"keys": [{"kty": "oct", "alg": "HS512", "k": "AAAA"}]}`))
	_, err := auth.NewJWTVerifier(auth.JWTConfig{
		Issuer: issuer, Audience: audience, JWKSFile: badJWKS,
		Keys: []auth.KeyConfig{
			{Algorithm: auth.HS256, File: short},
			{Algorithm: auth.RS256, File: k.ECFile},
			{Algorithm: auth.ES256, File: k.RSAFile},
			{Algorithm: auth.RS256, File: private},
			{Algorithm: auth.RS256, File: k.Dir + "/missing.pem"},
		},
	})
	if err == nil {
		t.Fatal("unusable keys loaded")
	}
	for _, want := range []string{
		"jwt.keys[0]", "shorter than 32 bytes",
		"jwt.keys[1]", "RS256 needs an RSA public key",
		"jwt.keys[2]", "ES256 needs an ECDSA public key on P-256",
		"jwt.keys[3]", `PEM block "PRIVATE KEY" is not a public key`,
		"jwt.keys[4]", "no such file",
		"jwt.jwks_file", "HS512",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

func TestServiceToken(t *testing.T) {
	k := authtest.NewKeys(t)
	file := k.Write(t, "token", []byte(serviceToken+"\n"))
	t.Setenv("ROLEGATE_TEST_SERVICE_TOKEN", serviceToken)
	for name, c := range map[string]auth.ServiceTokenConfig{
		"file": {File: file},
		"env":  {Env: "ROLEGATE_TEST_SERVICE_TOKEN"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := auth.LoadServiceToken(c)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Match(serviceToken) || s.Match(serviceToken+"x") || s.Match("") {
				t.Fatal("the service token does not match exactly itself")
			}
		})
	}
	t.Setenv("ROLEGATE_TEST_SHORT_TOKEN", "short")
	if _, err := auth.LoadServiceToken(auth.ServiceTokenConfig{Env: "ROLEGATE_TEST_SHORT_TOKEN"}); err == nil {
		t.Fatal("a short service token loaded")
	}
}

func TestAuthenticate(t *testing.T) {
	k := authtest.NewKeys(t)
	a, err := auth.New(auth.Config{
		JWT: auth.JWTConfig{
			Issuer: issuer, Audience: audience,
			Keys: []auth.KeyConfig{{Algorithm: auth.ES256, File: k.ECFile}},
		},
		ServiceToken: auth.ServiceTokenConfig{File: k.Write(t, "token", []byte(serviceToken))},
	})
	if err != nil {
		t.Fatal(err)
	}
	jwt := authtest.Sign(t, map[string]any{"alg": "ES256"}, with(nil), k.EC)
	tests := []struct {
		name          string
		authorization []string
		wantSubject   string
		wantService   bool
		wantIs        error
	}{
		{"service token", []string{"Bearer " + serviceToken}, "", true, nil},
		{"jwt", []string{"Bearer " + jwt}, "u-ann", false, nil},
		{"nothing", nil, "", false, auth.ErrNoCredential},
		{"wrong service token", []string{"Bearer " + serviceToken + "x"}, "", false, auth.ErrInvalidCredential},
		{"repeated", []string{"Bearer " + jwt, "Bearer " + serviceToken}, "", false, auth.ErrInvalidCredential},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := a.Authenticate(context.Background(), tt.authorization)
			if !errors.Is(err, tt.wantIs) || (tt.wantIs == nil && err != nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantIs)
			}
			if id.Subject != tt.wantSubject || id.Service != tt.wantService {
				t.Fatalf("identity = %+v", id)
			}
		})
	}
}
