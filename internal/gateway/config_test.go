package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/auth"
	"github.com/rolegate/rolegate/internal/gateway"
)

func TestConfigDefaults(t *testing.T) {
	c := gateway.Config{TrustedSubjectHeader: "X-Authenticated-User"}
	c.SetDefaults()
	want := gateway.Config{
		TrustedSubjectHeader: "X-Authenticated-User",
		SubjectHeader:        "X-Rolegate-Subject",
		Timeout:              150 * time.Millisecond,
		ErrorStatus:          403,
		EnvoyPathPrefix:      "/v1/gateway/envoy",
		GRPCAddr:             "127.0.0.1:9191",
		ShutdownGrace:        5 * time.Second,
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Fatalf("defaults (-want +got):\n%s", diff)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := gateway.Config{
		JWT:                  auth.JWTConfig{Issuer: "https://id.example.test"},
		TrustedSubjectHeader: "x-rolegate-subject",
		SubjectHeader:        "X-Rolegate-Subject",
		Timeout:              time.Minute,
		ErrorStatus:          200,
		EnvoyPathPrefix:      "/v1/envoy/",
		GRPCAddr:             "9191",
		ShutdownGrace:        -time.Second,
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("an invalid configuration passed")
	}
	want := []string{
		"jwt.audience is required",
		"jwt: no key: set jwt.keys, jwt.jwks_file or both",
		`trusted_subject_header and subject_header are both "x-rolegate-subject": a client could name its own subject`,
		"timeout 1m0s is not between 0 and 10s",
		"error_status 200 is not a 4xx or 5xx status other than 401",
		`envoy_path_prefix "/v1/envoy/" is not a path of lowercase segments without a final /`,
		`grpc_addr "9191": address 9191: missing port in address`,
		"shutdown_grace -1s is negative",
	}
	if diff := cmp.Diff(want, strings.Split(err.Error(), "\n")); diff != "" {
		t.Fatalf("problems (-want +got):\n%s", diff)
	}
}

func TestConfigValidateRejects(t *testing.T) {
	tests := map[string]struct {
		edit    func(*gateway.Config)
		wantErr string
	}{
		"no identity source":       {func(c *gateway.Config) { c.TrustedSubjectHeader = "" }, "no identity source"},
		"401 for errors":           {func(c *gateway.Config) { c.ErrorStatus = 401 }, "error_status 401"},
		"Authorization as subject": {func(c *gateway.Config) { c.SubjectHeader = "authorization" }, "subject_header"},
		"Authorization as trusted": {
			func(c *gateway.Config) { c.TrustedSubjectHeader = "Authorization" }, "trusted_subject_header",
		},
		"header name with a space":  {func(c *gateway.Config) { c.SubjectHeader = "X Subject" }, "subject_header"},
		"prefix of the whole space": {func(c *gateway.Config) { c.EnvoyPathPrefix = "/" }, "envoy_path_prefix"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			c := gateway.Config{TrustedSubjectHeader: "X-Authenticated-User"}
			c.SetDefaults()
			tt.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}
