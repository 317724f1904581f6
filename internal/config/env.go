package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// envVar is one ROLEGATE_ environment variable and the field it sets.
type envVar struct {
	name string
	set  func(c *Config, v string) error
}

// envVars lists every environment override; docs/configuration.md documents them.
var envVars = []envVar{
	{"ROLEGATE_ADDR", func(c *Config, v string) error { c.Addr = v; return nil }},
	{"ROLEGATE_PUBLIC_URL", func(c *Config, v string) error { c.PublicURL = v; return nil }},
	{"ROLEGATE_POLICY", func(c *Config, v string) error { c.Policy = v; return nil }},
	{"ROLEGATE_DATA", func(c *Config, v string) error { c.Data = v; return nil }},
	{"ROLEGATE_MAX_BODY_BYTES", func(c *Config, v string) error { return setInt64(&c.Limits.MaxBodyBytes, v) }},
	{"ROLEGATE_MAX_BATCH", func(c *Config, v string) error { return setInt(&c.Limits.MaxBatch, v) }},
	{"ROLEGATE_MAX_DEPTH", func(c *Config, v string) error { return setInt(&c.Limits.MaxDepth, v) }},
	{"ROLEGATE_REQUEST_TIMEOUT", func(c *Config, v string) error { return setDuration(&c.Limits.RequestTimeout, v) }},
	{"ROLEGATE_CONSISTENCY_WAIT", func(c *Config, v string) error { return setDuration(&c.Limits.ConsistencyWait, v) }},
	{"ROLEGATE_LOG_FORMAT", func(c *Config, v string) error { c.Log.Format = v; return nil }},
	{"ROLEGATE_LOG_LEVEL", func(c *Config, v string) error { c.Log.Level = v; return nil }},
	{"ROLEGATE_DECISION_LOG", func(c *Config, v string) error { c.DecisionLog = v; return nil }},
	{"ROLEGATE_SHUTDOWN_TIMEOUT", func(c *Config, v string) error { return setDuration(&c.ShutdownTimeout, v) }},
	{"ROLEGATE_DEBUG_ADDR", func(c *Config, v string) error { c.DebugAddr = v; return nil }},
}

// EnvNames returns the names of every environment override.
func EnvNames() []string {
	names := make([]string, len(envVars))
	for i, e := range envVars {
		names[i] = e.name
	}
	return names
}

func (c *Config) applyEnv(environ func(string) (string, bool)) error {
	var errs []error
	for _, e := range envVars {
		v, ok := environ(e.name)
		if !ok {
			continue
		}
		if err := e.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.name, err))
		}
	}
	return errors.Join(errs...)
}

func setInt(dst *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("not a whole number: %q", v)
	}
	*dst = n
	return nil
}

func setInt64(dst *int64, v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("not a whole number: %q", v)
	}
	*dst = n
	return nil
}

func setDuration(dst *time.Duration, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return err
	}
	*dst = d
	return nil
}

// ParseLevel reads a log level name.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("unknown level %q (debug, info, warn, error)", s)
	}
	return l, nil
}
