package bundle

import (
	"errors"
	"fmt"
	"os"
	"slices"

	opabundle "github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/keys"

	"github.com/rolegate/rolegate/internal/policy"
)

// Signing algorithms rolegate's command line offers. Verification accepts every
// algorithm OPA does.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
	AlgHS256 = "HS256"
)

// SigningAlgorithms are the algorithms Sign accepts.
var SigningAlgorithms = []string{AlgRS256, AlgES256, AlgHS256}

// Defaults shared with OPA's `build`, `sign` and `run` commands, so that a bundle
// signed by one verifies in the other without extra flags.
const (
	DefaultAlgorithm = AlgRS256
	DefaultKeyID     = "default"
)

// Signing says how to sign a bundle, as `opa build --signing-key` does.
type Signing struct {
	// KeyFile holds a PEM private key (RS256, ES256) or, for HS256, the shared secret
	// exactly as the file's bytes.
	KeyFile string
	// Algorithm is one of SigningAlgorithms; empty means DefaultAlgorithm.
	Algorithm string
	// KeyID names the key in the token's kid header and keyid claim; empty means
	// DefaultKeyID.
	KeyID string
	// ClaimsFile is an optional JSON file of claims for the token, such as "scope".
	ClaimsFile string
}

// Sign returns b without its test files and with a .signatures.json that covers
// every file Write puts in the tarball. b itself is not modified.
func Sign(b *opabundle.Bundle, s Signing) (*opabundle.Bundle, error) {
	alg := orDefault(s.Algorithm, DefaultAlgorithm)
	if !slices.Contains(SigningAlgorithms, alg) {
		return nil, fmt.Errorf("sign bundle: algorithm %q is not one of %v", alg, SigningAlgorithms)
	}
	// OPA takes a key argument that is a path or, when no such file exists, the key
	// itself; reading the file here makes a mistyped path an error, not a secret.
	key, err := os.ReadFile(s.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("sign bundle: signing key: %w", err)
	}
	out := policy.WithoutTests(b)
	sc := opabundle.NewSigningConfig(string(key), alg, s.ClaimsFile)
	if err := out.GenerateSignature(sc, orDefault(s.KeyID, DefaultKeyID), false); err != nil {
		return nil, fmt.Errorf("sign bundle: %w", err)
	}
	return out, nil
}

// Verification says how to check a bundle's signature, as `opa run --bundle
// --verification-key` does.
type Verification struct {
	// KeyFile holds the PEM public key (or certificate) or, for HS256, the shared
	// secret exactly as the file's bytes.
	KeyFile string `yaml:"key_file"`
	// Algorithm is any algorithm OPA supports; empty means DefaultAlgorithm.
	Algorithm string `yaml:"algorithm"`
	// KeyID is the id the key is known by; empty means DefaultKeyID. As in OPA, this
	// key checks the signature whatever kid the token names.
	KeyID string `yaml:"key_id"`
	// Scope, when set, must equal the token's scope claim.
	Scope string `yaml:"scope"`
}

// Config reads the key and returns OPA's verification configuration for it.
func (v Verification) Config() (*opabundle.VerificationConfig, error) {
	alg := orDefault(v.Algorithm, DefaultAlgorithm)
	if !keys.IsSupportedAlgorithm(alg) {
		return nil, fmt.Errorf("verification key: algorithm %q is not supported", alg)
	}
	if v.KeyFile == "" {
		return nil, errors.New("verification key: no key file")
	}
	key, err := os.ReadFile(v.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("verification key: %w", err)
	}
	id := orDefault(v.KeyID, DefaultKeyID)
	kc := &keys.Config{Key: string(key), Algorithm: alg, Scope: v.Scope}
	return opabundle.NewVerificationConfig(map[string]*keys.Config{id: kc}, id, v.Scope, nil), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
