// Package config reads rolegate's configuration: defaults, then a YAML file, then
// ROLEGATE_ environment variables, each overriding the one before (command-line flags
// override all three, in the cli package). Validate reports every problem at once.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rolegate/rolegate/internal/auth"
	"github.com/rolegate/rolegate/internal/gateway"
)

// Defaults.
const (
	DefaultAddr            = "127.0.0.1:8181"
	DefaultMaxBodyBytes    = 1 << 20
	DefaultMaxBatch        = 100
	DefaultMaxDepth        = 32
	DefaultRequestTimeout  = 2 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
	DefaultLogFormat       = "auto"
	DefaultLogLevel        = "info"
	DefaultDecisionLog     = "stdout"
)

// Config is the whole configuration of `rolegate serve`.
type Config struct {
	// Addr is the host:port the HTTP API listens on.
	Addr string `yaml:"addr"`
	// Policy is a policy directory or bundle file; empty means the policy built into
	// the binary.
	Policy string `yaml:"policy"`
	// Data is the membership data file the embedded store loads.
	Data string `yaml:"data"`
	// Limits bound what one request may cost.
	Limits Limits `yaml:"limits"`
	// Log configures the service's own log.
	Log Log `yaml:"log"`
	// DecisionLog is where the decision log goes: stdout, stderr, a file path, or off.
	DecisionLog string `yaml:"decision_log"`
	// ShutdownTimeout is how long a graceful shutdown waits for requests in flight.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
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
			MaxBodyBytes:   DefaultMaxBodyBytes,
			MaxBatch:       DefaultMaxBatch,
			MaxDepth:       DefaultMaxDepth,
			RequestTimeout: DefaultRequestTimeout,
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
	return c, nil
}

// Validate reports every problem of the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Addr == "" {
		add("addr is required")
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

// AuthEnabled reports whether any credential is configured for the administrative
// routes; without one they refuse every caller.
func (c *Config) AuthEnabled() bool {
	return c.Auth.JWT.Enabled() || c.Auth.ServiceToken.Enabled()
}
