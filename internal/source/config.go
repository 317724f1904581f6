package source

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/open-policy-agent/opa/v1/keys"

	"github.com/rolegate/rolegate/internal/bundle"
)

// Defaults for the Config fields left zero.
const (
	DefaultPollInterval   = 30 * time.Second
	DefaultTimeout        = 10 * time.Second
	DefaultMaxBundleBytes = 32 << 20
	DefaultDebounce       = 250 * time.Millisecond
)

// Config says where the active policy comes from. Exactly one of Directory, File and
// URL is set.
type Config struct {
	// Directory is a policy directory of Rego files, reloaded when a file under it
	// changes; for development.
	Directory string `yaml:"directory"`
	// File is a bundle file, reloaded when it is replaced or changed.
	File string `yaml:"file"`
	// URL is a bundle on a bundle service or any static HTTP server, polled every
	// PollInterval with If-None-Match.
	URL string `yaml:"url"`

	// PollInterval is the time between two requests to URL.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Timeout bounds one request to URL, body included.
	Timeout time.Duration `yaml:"timeout"`
	// MaxBundleBytes bounds a downloaded bundle, and each file in it once
	// decompressed.
	MaxBundleBytes int64 `yaml:"max_bundle_bytes"`
	// TokenFile holds a bearer token for URL, read again for every request so that
	// it can be rotated. The token is never logged.
	TokenFile string `yaml:"token_file"`
	// TokenEnv names an environment variable holding a bearer token for URL.
	TokenEnv string `yaml:"token_env"`

	// Verification checks the signature of every bundle when its KeyFile is set:
	// unsigned, wrongly signed or tampered bundles are then refused.
	Verification bundle.Verification `yaml:"verification"`

	// PersistDir is where the last good bundle from URL is kept, to start from when
	// the service is down at startup; empty keeps none.
	PersistDir string `yaml:"persist_dir"`
	// MaxPolicyAge, when positive, is how long the policy from URL may go without a
	// successful refresh; after it, decisions deny with policy_stale and the manager
	// is not ready.
	MaxPolicyAge time.Duration `yaml:"max_policy_age"`

	// Debounce is how long Directory or File must be quiet after a change before it
	// is reloaded, so that an editor's or a deployment's burst of writes loads once.
	Debounce time.Duration `yaml:"debounce"`
}

// Kind names where a policy came from.
type Kind string

// The kinds of policy source. KindPersisted is the last good bundle of a URL,
// loaded from PersistDir.
const (
	KindDirectory Kind = "directory"
	KindFile      Kind = "file"
	KindURL       Kind = "url"
	KindPersisted Kind = "persisted"
)

// Kind returns the kind of source c configures, or "" when it does not set exactly
// one.
func (c *Config) Kind() Kind {
	var kind Kind
	n := 0
	for _, s := range []struct {
		kind Kind
		set  bool
	}{{KindDirectory, c.Directory != ""}, {KindFile, c.File != ""}, {KindURL, c.URL != ""}} {
		if s.set {
			kind, n = s.kind, n+1
		}
	}
	if n != 1 {
		return ""
	}
	return kind
}

// withDefaults returns c with every zero field that has a default set to it.
func (c Config) withDefaults() Config {
	c.PollInterval = orDefault(c.PollInterval, DefaultPollInterval)
	c.Timeout = orDefault(c.Timeout, DefaultTimeout)
	c.MaxBundleBytes = orDefault(c.MaxBundleBytes, DefaultMaxBundleBytes)
	c.Debounce = orDefault(c.Debounce, DefaultDebounce)
	return c
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Validate reports every problem with c at once; zero fields take their defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	kind := c.Kind()
	if kind == "" {
		add("set exactly one of directory, file and url")
	}
	if c.URL != "" {
		if err := checkURL(c.URL); err != nil {
			add("url: %w", err)
		}
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"poll_interval", c.PollInterval}, {"timeout", c.Timeout}, {"debounce", c.Debounce}} {
		if d.value < 0 {
			add("%s must be positive, not %s", d.name, d.value)
		}
	}
	if c.MaxBundleBytes < 0 {
		add("max_bundle_bytes must be positive, not %d", c.MaxBundleBytes)
	}
	errs = append(errs, c.validateURLOnly(kind)...)
	errs = append(errs, c.validateToken()...)
	errs = append(errs, c.validateVerification(kind)...)
	return errors.Join(errs...)
}

// validateURLOnly reports the settings that only mean something for a URL.
func (c *Config) validateURLOnly(kind Kind) []error {
	if kind == KindURL || kind == "" {
		if c.MaxPolicyAge < 0 {
			return []error{fmt.Errorf("max_policy_age must be positive, not %s", c.MaxPolicyAge)}
		}
		if c.MaxPolicyAge > 0 && c.MaxPolicyAge <= c.PollInterval {
			return []error{fmt.Errorf("max_policy_age (%s) must be longer than poll_interval (%s)",
				c.MaxPolicyAge, c.PollInterval)}
		}
		return nil
	}
	var errs []error
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"token_file", c.TokenFile != ""},
		{"token_env", c.TokenEnv != ""},
		{"persist_dir", c.PersistDir != ""},
		{"max_policy_age", c.MaxPolicyAge != 0},
	} {
		if f.set {
			errs = append(errs, fmt.Errorf("%s applies to a url source only, not to a %s", f.name, kind))
		}
	}
	return errs
}

func (c *Config) validateToken() []error {
	var errs []error
	if c.TokenFile != "" && c.TokenEnv != "" {
		errs = append(errs, errors.New("set token_file or token_env, not both"))
	}
	if c.TokenFile != "" {
		if _, err := readToken(c.TokenFile); err != nil {
			errs = append(errs, fmt.Errorf("token_file: %w", err))
		}
	}
	if c.TokenEnv != "" && os.Getenv(c.TokenEnv) == "" {
		errs = append(errs, fmt.Errorf("token_env: environment variable %s is empty", c.TokenEnv))
	}
	return errs
}

func (c *Config) validateVerification(kind Kind) []error {
	v := c.Verification
	if v.KeyFile == "" {
		if v != (bundle.Verification{}) {
			return []error{errors.New("verification: algorithm, key_id and scope need key_file")}
		}
		return nil
	}
	var errs []error
	if kind == KindDirectory {
		errs = append(errs, errors.New("verification applies to bundles, not to a directory"))
	}
	if v.Algorithm != "" && !keys.IsSupportedAlgorithm(v.Algorithm) {
		errs = append(errs, fmt.Errorf("verification: algorithm %q is not supported", v.Algorithm))
	}
	if _, err := os.Stat(v.KeyFile); err != nil {
		errs = append(errs, fmt.Errorf("verification: key_file: %w", err))
	}
	return errs
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	return nil
}
