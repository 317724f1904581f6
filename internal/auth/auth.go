// Package auth authenticates callers: bearer JWTs verified against configured keys
// (HS256, RS256, ES256, from key files or a JWKS file), and the platform back end's
// service token. It never logs or returns a token.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Errors callers branch on: no credential at all, or one that does not verify. Both
// mean the caller is not authenticated (HTTP 401).
var (
	ErrNoCredential      = errors.New("no credential")
	ErrInvalidCredential = errors.New("invalid credential")
)

// Identity is who a verified credential says the caller is.
type Identity struct {
	// Subject is the JWT's sub claim; empty for the service token.
	Subject string
	// Service is true for the platform back end's service token.
	Service bool
	// Claims are the JWT's claims; nil for the service token.
	Claims map[string]any
}

// BearerToken returns the token of an Authorization header given as all its values.
// No header is ErrNoCredential; a repeated header, another scheme or an empty token
// is ErrInvalidCredential.
func BearerToken(values []string) (string, error) {
	switch {
	case len(values) == 0:
		return "", ErrNoCredential
	case len(values) > 1:
		return "", fmt.Errorf("%w: repeated Authorization header", ErrInvalidCredential)
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: not a Bearer credential", ErrInvalidCredential)
	}
	if token == "" || strings.ContainsAny(token, " \t,") {
		return "", fmt.Errorf("%w: malformed Bearer token", ErrInvalidCredential)
	}
	return token, nil
}

// ServiceToken recognises the platform back end's token in constant time.
type ServiceToken struct {
	digest [sha256.Size]byte
}

// LoadServiceToken reads the token from the configured file or environment variable.
func LoadServiceToken(c ServiceTokenConfig) (*ServiceToken, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var token string
	switch {
	case c.File != "":
		data, err := os.ReadFile(c.File)
		if err != nil {
			return nil, fmt.Errorf("service_token.file: %w", err)
		}
		token = string(trimNewline(data))
	case c.Env != "":
		token = os.Getenv(c.Env)
	default:
		return nil, errors.New("service_token: not configured")
	}
	if len(token) < MinServiceTokenBytes {
		return nil, fmt.Errorf("service_token: the token is shorter than %d bytes", MinServiceTokenBytes)
	}
	return &ServiceToken{digest: sha256.Sum256([]byte(token))}, nil
}

// Match reports whether token is the service token. Comparing digests keeps the time
// taken independent of both the token's content and its length.
func (s *ServiceToken) Match(token string) bool {
	d := sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(d[:], s.digest[:]) == 1
}

// Authenticator accepts the service token and bearer JWTs, as configured.
type Authenticator struct {
	jwt     *JWTVerifier
	service *ServiceToken
}

// New validates the configuration and loads its keys and token.
func New(c Config) (*Authenticator, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	a := &Authenticator{}
	var err error
	if c.JWT.Enabled() {
		if a.jwt, err = NewJWTVerifier(c.JWT); err != nil {
			return nil, err
		}
	}
	if c.ServiceToken.Enabled() {
		if a.service, err = LoadServiceToken(c.ServiceToken); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Authenticate checks an Authorization header given as all its values: the service
// token when configured, else a JWT. Errors wrap ErrNoCredential or ErrInvalidCredential.
func (a *Authenticator) Authenticate(ctx context.Context, authorization []string) (Identity, error) {
	token, err := BearerToken(authorization)
	if err != nil {
		return Identity{}, err
	}
	if a.service != nil && a.service.Match(token) {
		return Identity{Service: true}, nil
	}
	if a.jwt == nil {
		return Identity{}, fmt.Errorf("%w: not the service token", ErrInvalidCredential)
	}
	return a.jwt.Verify(ctx, token)
}
