package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// MaxSubjectBytes bounds the sub claim, as the decision API bounds a subject.
const MaxSubjectBytes = 256

// JWTVerifier verifies bearer JWTs against the configured keys. It is immutable and
// safe for concurrent use.
type JWTVerifier struct {
	issuer   string
	audience string
	leeway   time.Duration
	keys     []verifyKey
	now      func() time.Time
}

// NewJWTVerifier validates the settings and loads every key, reporting every problem
// at once. Settings with nothing set are an error: there is nothing to verify with.
func NewJWTVerifier(c JWTConfig) (*JWTVerifier, error) {
	if !c.Enabled() {
		return nil, errors.New("jwt: not configured")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	keys, err := loadKeys(&c)
	if err != nil {
		return nil, err
	}
	return &JWTVerifier{
		issuer:   c.Issuer,
		audience: c.Audience,
		leeway:   c.leeway(),
		keys:     keys,
		now:      time.Now,
	}, nil
}

// Verify checks the token's signature with a configured key for the algorithm its
// header names, then its issuer, audience, expiry, nbf and iat (within the leeway),
// and returns the identity it carries. Every failure wraps ErrInvalidCredential.
func (v *JWTVerifier) Verify(ctx context.Context, token string) (Identity, error) {
	if len(token) > MaxTokenBytes || strings.Count(token, ".") != 2 {
		return Identity{}, fmt.Errorf("%w: not a compact JWS of at most %d bytes",
			ErrInvalidCredential, MaxTokenBytes)
	}
	tok, err := jwt.Parse([]byte(token),
		jwt.WithContext(ctx),
		jwt.WithKeyProvider(jws.KeyProviderFunc(v.fetchKeys)),
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithAcceptableSkew(v.leeway),
		jwt.WithClock(jwt.ClockFunc(v.now)),
	)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrInvalidCredential, err)
	}
	sub, ok := tok.Subject()
	if !ok || sub == "" || len(sub) > MaxSubjectBytes {
		return Identity{}, fmt.Errorf("%w: sub must be 1 to %d bytes", ErrInvalidCredential, MaxSubjectBytes)
	}
	return Identity{Subject: sub, Claims: claims(tok)}, nil
}

// errNoKey means no configured key verifies the algorithm (and key id) a token names.
var errNoKey = errors.New("no key for the token's algorithm and key id")

// fetchKeys offers only the keys configured for the algorithm the protected header
// names, so a token can never choose how a key is used: "none", or HS256 with an RSA
// public key as the secret, finds no key.
func (v *JWTVerifier) fetchKeys(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	h := sig.ProtectedHeaders()
	if h == nil {
		return errNoKey
	}
	if h.Has(jws.CriticalKey) {
		return errors.New("crit header: no extension is understood")
	}
	alg, ok := h.Algorithm()
	if !ok {
		return errors.New("no alg header")
	}
	kid, _ := h.KeyID()
	found := false
	for _, k := range v.keys {
		if k.alg != alg || (kid != "" && k.id != "" && k.id != kid) {
			continue
		}
		sink.Key(k.alg, k.key)
		found = true
	}
	if !found {
		return fmt.Errorf("%w: alg %q", errNoKey, alg)
	}
	return nil
}

func claims(tok jwt.Token) map[string]any {
	keys := tok.Keys()
	m := make(map[string]any, len(keys))
	for _, k := range keys {
		var v any
		if tok.Get(k, &v) == nil {
			m[k] = v
		}
	}
	return m
}
