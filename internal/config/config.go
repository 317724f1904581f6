// Package config reads rolegate's configuration: defaults, then a YAML file, then
// ROLEGATE_ environment variables, each overriding the one before (command-line flags
// override all three, in the cli package). Validate reports every problem at once.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rolegate/rolegate/internal/auth"
	"github.com/rolegate/rolegate/internal/gateway"
	"github.com/rolegate/rolegate/internal/membership/redis"
	"github.com/rolegate/rolegate/internal/source"
)

// Defaults.
const (
	DefaultAddr            = "127.0.0.1:8181"
	DefaultMaxBodyBytes    = 1 << 20
	DefaultMaxBatch        = 100
	DefaultMaxDepth        = 32
	DefaultRequestTimeout  = 2 * time.Second
	DefaultConsistencyWait = 200 * time.Millisecond
	DefaultShutdownTimeout = 10 * time.Second
	DefaultLogFormat       = "auto"
	DefaultLogLevel        = "info"
	DefaultDecisionLog     = "stdout"
)

// Config is the whole configuration of `rolegate serve`.
type Config struct {
	// Addr is the host:port the HTTP API listens on.
	Addr string `yaml:"addr"`
	// PublicURL is the base URL clients reach the service at, such as
	// https://authz.example.com: the AuthZEN metadata names it as the issuer and
	// builds its endpoints from it. Empty, the metadata is built from each request's
	// own Host, which suits development only, as a client chooses it.
	PublicURL string `yaml:"public_url"`
	// Policy is a policy directory or bundle file, reloaded when it changes; empty
	// means the policy built into the binary. PolicySource configures more.
	Policy string `yaml:"policy"`
	// PolicySource is where the policy comes from, in full: a directory, a bundle
	// file or a bundle service URL with polling, signature verification,
	// persistence and a maximum policy age. Not together with Policy.
	PolicySource *source.Config `yaml:"policy_source"`
	// Data is the membership data file the embedded store loads. Not with Redis.
	Data string `yaml:"data"`
	// Redis selects the Redis membership store instead of the embedded one
	// (ROLEGATE_REDIS_URL sets its url).
	Redis *redis.Config `yaml:"redis"`
	// Limits bound what one request may cost.
	Limits Limits `yaml:"limits"`
	// Log configures the service's own log.
	Log Log `yaml:"log"`
	// DecisionLog is where the decision log goes: stdout, stderr, a file path, or off.
	DecisionLog string `yaml:"decision_log"`
	// ShutdownTimeout is how long a graceful shutdown waits for requests in flight.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// DebugAddr, when set, is a host:port of its own where Go's runtime profiles
	// (net/http/pprof) are served, for `go tool pprof` and heap measurements; empty
	// serves none. Bind it to loopback: it has no authentication.
	DebugAddr string `yaml:"debug_addr"`
	// Auth authenticates the administrative routes (the membership API): bearer JWTs
	// of users and the platform back end's service token.
	Auth auth.Config `yaml:"auth"`
	// Gateway turns on the gateway endpoints (Envoy ext_authz over gRPC and HTTP,
	// nginx auth_request, Traefik forwardAuth); absent means off.
	Gateway *gateway.Config `yaml:"gateway"`
}

// Limits bound what one request may cost.
type Limits struct {
	// MaxBodyBytes is the largest request body accepted; larger is a 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxBatch is the most requests one batch may carry.
	MaxBatch int `yaml:"max_batch"`
	// MaxDepth is the deepest JSON nesting accepted in a body.
	MaxDepth int `yaml:"max_depth"`
	// RequestTimeout bounds the time spent on one request's decisions.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// ConsistencyWait bounds how long a decision that asks for a membership
	// revision (consistency.at_least) waits for it before it is denied.
	ConsistencyWait time.Duration `yaml:"consistency_wait"`
}

// Log configures the service's own log (not the decision log).
type Log struct {
	// Format is json, text, or auto: text when standard error is a terminal, else json.
	Format string `yaml:"format"`
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
}

// Default returns the configuration used when nothing else is given.
func Default() Config {
	return Config{
		Addr: DefaultAddr,
		Limits: Limits{
			MaxBodyBytes:    DefaultMaxBodyBytes,
			MaxBatch:        DefaultMaxBatch,
			MaxDepth:        DefaultMaxDepth,
			RequestTimeout:  DefaultRequestTimeout,
			ConsistencyWait: DefaultConsistencyWait,
		},
		Log:             Log{Format: DefaultLogFormat, Level: DefaultLogLevel},
		DecisionLog:     DefaultDecisionLog,
		ShutdownTimeout: DefaultShutdownTimeout,
	}
}

// Load returns the defaults overridden by the YAML file at path (when path is not
// empty) and then by the environment. It does not validate.
func Load(path string, environ func(string) (string, bool)) (Config, error) {
	c := Default()
	rc := redis.DefaultConfig()
	c.Redis = &rc
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("read config %s: %w", path, err)
		}
	}
	if err := c.applyEnv(environ); err != nil {
		return c, err
	}
	c.Redis.FromEnv(func(k string) string { v, _ := environ(k); return v })
	if c.Redis.URL == "" && len(c.Redis.Addrs) == 0 {
		c.Redis = nil
	}
	return c, nil
}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Addr == "" {
		add("addr is required")
	}
	if err := checkPublicURL(c.PublicURL); err != nil {
		add("public_url: %w", err)
	}
	if c.Limits.MaxBodyBytes < 1024 {
		add("limits.max_body_bytes must be at least 1024, got %d", c.Limits.MaxBodyBytes)
	}
	if c.Limits.MaxBatch < 1 {
		add("limits.max_batch must be at least 1, got %d", c.Limits.MaxBatch)
	}
	if c.Limits.MaxDepth < 4 {
		add("limits.max_depth must be at least 4, got %d", c.Limits.MaxDepth)
	}
	if c.Limits.RequestTimeout <= 0 {
		add("limits.request_timeout must be positive")
	}
	if c.Limits.ConsistencyWait <= 0 {
		add("limits.consistency_wait must be positive")
	}
	c.validateSources(add)
	switch c.Log.Format {
	case "json", "text", "auto":
	default:
		add("log.format must be json, text or auto, got %q", c.Log.Format)
	}
	if _, err := ParseLevel(c.Log.Level); err != nil {
		add("log.level: %w", err)
	}
	if c.DecisionLog == "" {
		add("decision_log must be stdout, stderr, off or a file path")
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			add("debug_addr: %w", err)
		}
	}
	if c.AuthEnabled() {
		if err := c.Auth.Validate(); err != nil {
			add("auth: %w", err)
		}
	}
	if c.Gateway != nil {
		c.Gateway.SetDefaults()
		if err := c.Gateway.Validate(); err != nil {
			add("gateway: %w", err)
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validateSources(add func(string, ...any)) {
	if c.Policy != "" && c.PolicySource != nil {
		add("policy and policy_source are exclusive: give one")
	}
	if c.PolicySource != nil {
		if err := c.PolicySource.Validate(); err != nil {
			add("policy_source: %w", err)
		}
	}
	switch {
	case c.Redis != nil && c.Data != "":
		add("data and redis are exclusive: the embedded store loads data, Redis holds its own " +
			"(load it with rolegate members import)")
	case c.Redis == nil && c.Data == "":
		add("no membership store: give data (a membership data file) or redis")
	case c.Redis != nil:
		if err := c.Redis.Validate(); err != nil {
			add("redis: %w", err)
		}
	}
}

// Source returns the policy source configuration, nil for the policy built in.
func (c *Config) Source() (*source.Config, error) {
	switch {
	case c.PolicySource != nil:
		return c.PolicySource, nil
	case c.Policy == "":
		return nil, nil
	}
	info, err := os.Stat(c.Policy)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	if info.IsDir() {
		return &source.Config{Directory: c.Policy}, nil
	}
	return &source.Config{File: c.Policy}, nil
}

// AuthEnabled reports whether any credential is configured for the administrative
// routes; without one they refuse every caller.
func (c *Config) AuthEnabled() bool {
	return c.Auth.JWT.Enabled() || c.Auth.ServiceToken.Enabled()
}

// checkPublicURL accepts an empty URL or an absolute http or https URL with no query,
// fragment or user information, as an AuthZEN issuer must be.
func checkPublicURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q is not an http or https URL", raw)
	case u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return fmt.Errorf("%q must be scheme://host[:port][/path], with no query, fragment or user", raw)
	}
	return nil
}
