package auth

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Signature algorithms a key may verify. Each key verifies exactly one; a token signed
// with any other algorithm, "none" included, is invalid.
const (
	HS256 = "HS256"
	RS256 = "RS256"
	ES256 = "ES256"
)

// Algorithms lists the signature algorithms rolegate accepts.
var Algorithms = []string{HS256, RS256, ES256}

// Defaults and bounds of the JWT settings.
const (
	// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway bounds Leeway: a larger skew would keep expired tokens alive.
	MaxLeeway = 5 * time.Minute
	// MaxTokenBytes bounds a bearer token; longer ones are invalid without parsing.
	MaxTokenBytes = 8 << 10
	// MinSecretBytes is the shortest HS256 secret accepted (RFC 7518, section 3.2).
	MinSecretBytes = 32
	// MinServiceTokenBytes is the shortest service token accepted.
	MinServiceTokenBytes = 32
)

// Config says how callers authenticate: with a bearer JWT, with the platform back
// end's service token, or both.
type Config struct {
	// JWT verifies bearer JWTs; off when none of its fields is set.
	JWT JWTConfig `yaml:"jwt"`
	// ServiceToken recognises the platform back end; off when neither field is set.
	ServiceToken ServiceTokenConfig `yaml:"service_token"`
}

// JWTConfig says which bearer JWTs are valid. Setting any field turns verification on,
// and then Issuer, Audience and at least one key are required.
type JWTConfig struct {
	// Issuer is the value the iss claim must have.
	Issuer string `yaml:"issuer"`
	// Audience is a value the aud claim must contain.
	Audience string `yaml:"audience"`
	// Keys are verification keys, each read from its own file.
	Keys []KeyConfig `yaml:"keys"`
	// JWKSFile is a JSON Web Key Set file of further keys. A key without "alg" gets
	// the one algorithm rolegate accepts for its type (RSA: RS256, EC P-256: ES256,
	// oct: HS256); keys with "use": "enc" are skipped.
	JWKSFile string `yaml:"jwks_file"`
	// Leeway is the clock skew tolerated on exp, nbf and iat; zero means DefaultLeeway.
	Leeway time.Duration `yaml:"leeway"`
}

// KeyConfig is one verification key.
type KeyConfig struct {
	// ID is the key id; when both the key and a token name one, they must be equal.
	ID string `yaml:"id"`
	// Algorithm is HS256, RS256 or ES256; the key verifies that algorithm only.
	Algorithm string `yaml:"algorithm"`
	// File holds the key: the raw secret for HS256 (a final newline is dropped), a
	// PEM public key or certificate for RS256 (RSA, 2048 bits or more) and ES256 (P-256).
	File string `yaml:"file"`
}

// ServiceTokenConfig is where the platform back end's service token is read from: a
// file or an environment variable, not both.
type ServiceTokenConfig struct {
	// File holds the token (a final newline is dropped).
	File string `yaml:"file"`
	// Env names the environment variable that holds the token.
	Env string `yaml:"env"`
}

// Enabled reports whether any JWT setting is given.
func (c *JWTConfig) Enabled() bool {
	return c.Issuer != "" || c.Audience != "" || len(c.Keys) > 0 || c.JWKSFile != ""
}

// Enabled reports whether a service token is configured.
func (c *ServiceTokenConfig) Enabled() bool { return c.File != "" || c.Env != "" }

// Validate reports every problem of the configuration at once; it reads no file.
func (c *Config) Validate() error {
	var errs []error
	if !c.JWT.Enabled() && !c.ServiceToken.Enabled() {
		errs = append(errs, errors.New("no credential is configured: set jwt, service_token or both"))
	}
	errs = append(errs, c.JWT.problems()...)
	errs = append(errs, c.ServiceToken.problems()...)
	return errors.Join(errs...)
}

// Validate reports every problem of the JWT settings at once; it reads no file. A
// configuration with nothing set is valid (and verifies nothing).
func (c *JWTConfig) Validate() error { return errors.Join(c.problems()...) }

// Validate reports every problem of the service token settings at once.
func (c *ServiceTokenConfig) Validate() error { return errors.Join(c.problems()...) }

func (c *JWTConfig) problems() []error {
	if !c.Enabled() {
		return nil
	}
	var errs []error
	if c.Issuer == "" {
		errs = append(errs, errors.New("jwt.issuer is required"))
	}
	if c.Audience == "" {
		errs = append(errs, errors.New("jwt.audience is required"))
	}
	if len(c.Keys) == 0 && c.JWKSFile == "" {
		errs = append(errs, errors.New("jwt: no key: set jwt.keys, jwt.jwks_file or both"))
	}
	if c.Leeway < 0 || c.Leeway > MaxLeeway {
		errs = append(errs, fmt.Errorf("jwt.leeway %s is not between 0 and %s", c.Leeway, MaxLeeway))
	}
	ids := make(map[string]int)
	for i, k := range c.Keys {
		if !slices.Contains(Algorithms, k.Algorithm) {
			errs = append(errs, fmt.Errorf("jwt.keys[%d].algorithm %q is not one of %v", i, k.Algorithm, Algorithms))
		}
		if k.File == "" {
			errs = append(errs, fmt.Errorf("jwt.keys[%d].file is required", i))
		}
		if first, dup := ids[k.ID]; dup && k.ID != "" {
			errs = append(errs, fmt.Errorf("jwt.keys[%d].id %q is also jwt.keys[%d].id", i, k.ID, first))
		}
		ids[k.ID] = i
	}
	return errs
}

func (c *ServiceTokenConfig) problems() []error {
	if c.File != "" && c.Env != "" {
		return []error{errors.New("service_token: set file or env, not both")}
	}
	return nil
}

func (c *JWTConfig) leeway() time.Duration {
	if c.Leeway == 0 {
		return DefaultLeeway
	}
	return c.Leeway
}
