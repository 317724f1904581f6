package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/auth"
	"github.com/rolegate/rolegate/internal/auth/authtest"
	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/gateway"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/policy"
)

const (
	issuer   = "https://id.example.test"
	audience = "rolegate-gateway"
)

// shipped is the policy built into the binary, compiled once for all tests.
var shipped = sync.OnceValues(func() (*engine.Policy, error) {
	b, err := policy.Load("")
	if err != nil {
		return nil, err
	}
	return engine.Compile(context.Background(), b)
})

// fixture is a gateway over the shipped policy and examples/memberships.json, with
// bearer tokens signed by an RSA key generated for the test.
type fixture struct {
	gw   *gateway.Gateway
	keys *authtest.Keys
}

// newFixture builds a gateway; edit may change the configuration and the store.
func newFixture(t testing.TB, edit func(*gateway.Config), store membership.Reader) *fixture {
	t.Helper()
	return newFixtureWithLog(t, edit, store, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// newFixtureWithLog is newFixture with the gateway logging to log.
func newFixtureWithLog(t testing.TB, edit func(*gateway.Config), store membership.Reader, log *slog.Logger,
) *fixture {
	t.Helper()
	p, err := shipped()
	if err != nil {
		t.Fatal(err)
	}
	if store == nil {
		data, err := membership.LoadFile("../../examples/memberships.json", p.Model().RoleTypes())
		if err != nil {
			t.Fatal(err)
		}
		store = memory.New(data)
	}
	keys := authtest.NewKeys(t)
	cfg := gateway.Config{
		JWT: auth.JWTConfig{
			Issuer: issuer, Audience: audience,
			Keys: []auth.KeyConfig{{Algorithm: auth.RS256, File: keys.RSAFile}},
		},
		// Far above the default: a loaded machine running -race must not turn a
		// decision these tests compare into a timeout. Timeouts have their own test.
		Timeout: 5 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	e := engine.New(p)
	gw, err := gateway.New(cfg, authz.NewService(e, store), log)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{gw: gw, keys: keys}
}

// token returns a valid bearer token for the subject.
func (f *fixture) token(t testing.TB, subject string) string {
	t.Helper()
	return authtest.Sign(t, map[string]any{"alg": "RS256"}, authtest.Claims(subject, issuer, audience), f.keys.RSA)
}

// bearer returns an Authorization header for the subject; "" gives none.
func (f *fixture) bearer(t testing.TB, subject string) http.Header {
	t.Helper()
	if subject == "" {
		return http.Header{}
	}
	return http.Header{"Authorization": {"Bearer " + f.token(t, subject)}}
}
