package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rolegate/rolegate/internal/auth"
)

// Defaults of Config.
const (
	// DefaultSubjectHeader carries the verified subject upstream on an allow.
	DefaultSubjectHeader = "X-Rolegate-Subject"
	// DefaultTimeout bounds one check. It is below Envoy's default ext_authz timeout
	// (200 ms), so rolegate answers a denial with reasons before Envoy gives up.
	DefaultTimeout = 150 * time.Millisecond
	// DefaultErrorStatus answers errors and timeouts.
	DefaultErrorStatus = http.StatusForbidden
	// DefaultEnvoyPathPrefix is where Envoy's ext_authz HTTP service sends checks: it
	// puts this prefix (its path_prefix setting) before the original path.
	DefaultEnvoyPathPrefix = "/v1/gateway/envoy"
	// DefaultGRPCAddr is where the Envoy ext_authz gRPC listener binds.
	DefaultGRPCAddr = "127.0.0.1:9191"
	// DefaultShutdownGrace bounds a graceful stop of the gRPC listener.
	DefaultShutdownGrace = 5 * time.Second
	// MaxTimeout bounds Timeout: a gateway waits on every request for the answer.
	MaxTimeout = 10 * time.Second
)

// ForwardAuthPath is where nginx auth_request and Traefik forwardAuth send checks.
const ForwardAuthPath = "/v1/gateway/auth"

// Config configures the gateway path: how the subject is found, what goes upstream,
// how long a check may take and what errors answer.
type Config struct {
	// JWT verifies bearer tokens in the Authorization header; off when empty.
	JWT auth.JWTConfig `yaml:"jwt"`
	// TrustedSubjectHeader names a header that carries the subject, set by a proxy on
	// a trusted network that removes it from outside requests. When it is present it
	// is the subject and the Authorization header is not read. Empty (the default)
	// turns it off; only set it where no client can reach rolegate's gateway
	// through a path that keeps a header it sent.
	TrustedSubjectHeader string `yaml:"trusted_subject_header"`
	// SubjectHeader carries the verified subject upstream on an allow, replacing any
	// value the client sent. Default DefaultSubjectHeader.
	SubjectHeader string `yaml:"subject_header"`
	// Timeout bounds one check: authentication, fact lookup and evaluation. A check
	// that runs out of time is denied. Default DefaultTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// ErrorStatus is the HTTP status that answers errors and timeouts: any 4xx or 5xx
	// but 401, which means "no valid identity". Default 403. nginx turns any status
	// but 401 and 403 into a 500.
	ErrorStatus int `yaml:"error_status"`
	// EnvoyPathPrefix is the path_prefix of Envoy's ext_authz HTTP service: a forward-auth
	// request under it is Envoy's, with the original method and path after the prefix.
	// Default DefaultEnvoyPathPrefix.
	EnvoyPathPrefix string `yaml:"envoy_path_prefix"`
	// GRPCAddr is the host:port of the Envoy ext_authz gRPC listener. Default
	// DefaultGRPCAddr.
	GRPCAddr string `yaml:"grpc_addr"`
	// ShutdownGrace bounds how long a stopping gRPC listener waits for checks in
	// flight. Default DefaultShutdownGrace.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
}

// SetDefaults fills every unset field with its default.
func (c *Config) SetDefaults() {
	set := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	set(&c.SubjectHeader, DefaultSubjectHeader)
	set(&c.EnvoyPathPrefix, DefaultEnvoyPathPrefix)
	set(&c.GRPCAddr, DefaultGRPCAddr)
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.ErrorStatus == 0 {
		c.ErrorStatus = DefaultErrorStatus
	}
	if c.ShutdownGrace == 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
}

// Validate reports every problem at once; call it after SetDefaults. It reads no file.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := c.JWT.Validate(); err != nil {
		errs = append(errs, err)
	}
	if !c.JWT.Enabled() && c.TrustedSubjectHeader == "" {
		add("no identity source: set jwt, trusted_subject_header or both")
	}
	c.checkHeaders(add)
	if c.Timeout <= 0 || c.Timeout > MaxTimeout {
		add("timeout %s is not between 0 and %s", c.Timeout, MaxTimeout)
	}
	if c.ErrorStatus < 400 || c.ErrorStatus > 599 || c.ErrorStatus == http.StatusUnauthorized {
		add("error_status %d is not a 4xx or 5xx status other than 401", c.ErrorStatus)
	}
	if p := c.EnvoyPathPrefix; p == "/" || strings.HasSuffix(p, "/") || !canonicalTemplate(p) {
		add("envoy_path_prefix %q is not a path of lowercase segments without a final /", p)
	}
	if _, _, err := net.SplitHostPort(c.GRPCAddr); err != nil {
		add("grpc_addr %q: %w", c.GRPCAddr, err)
	}
	if c.ShutdownGrace < 0 {
		add("shutdown_grace %s is negative", c.ShutdownGrace)
	}
	return errors.Join(errs...)
}

func (c *Config) checkHeaders(add func(string, ...any)) {
	if !headerName(c.SubjectHeader) || strings.EqualFold(c.SubjectHeader, "Authorization") {
		add("subject_header %q is not a header name other than Authorization", c.SubjectHeader)
	}
	if t := c.TrustedSubjectHeader; t != "" {
		if !headerName(t) || strings.EqualFold(t, "Authorization") {
			add("trusted_subject_header %q is not a header name other than Authorization", t)
		}
		if strings.EqualFold(t, c.SubjectHeader) {
			add("trusted_subject_header and subject_header are both %q: a client could name its own subject", t)
		}
	}
}

// headerName reports whether s is an HTTP field name (RFC 9110 token).
func headerName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// canonicalTemplate reports whether p is a path of lowercase letters, digits, hyphens
// and slashes with no empty segment.
func canonicalTemplate(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
		return false
	}
	return strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789-/") == ""
}
