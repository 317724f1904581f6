package source_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	opabundle "github.com/open-policy-agent/opa/v1/bundle"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/source"
	"github.com/rolegate/rolegate/test/domain"
)

// bundleServer serves one bundle tarball as a bundle service does: with a strong
// ETag, and 304 Not Modified to a request that names it in If-None-Match.
type bundleServer struct {
	*httptest.Server
	mu       sync.Mutex
	body     []byte
	etag     string
	status   int // when not 0, every request gets this status and no bundle
	token    string
	requests []request
}

// request is what the server saw and answered.
type request struct {
	IfNoneMatch string
	Auth        string
	Status      int
}

func newBundleServer(t *testing.T, body []byte) *bundleServer {
	t.Helper()
	s := &bundleServer{}
	s.serve(body)
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *bundleServer) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	status := s.status
	switch {
	case status != 0:
	case s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token:
		status = http.StatusUnauthorized
	case r.Header.Get("If-None-Match") == s.etag:
		status = http.StatusNotModified
	default:
		status = http.StatusOK
	}
	seen := request{IfNoneMatch: r.Header.Get("If-None-Match"), Auth: r.Header.Get("Authorization"), Status: status}
	s.requests = append(s.requests, seen)
	if status != http.StatusOK {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("ETag", s.etag)
	w.Header().Set("Content-Type", "application/gzip")
	w.Write(s.body)
}

// serve makes body the bundle the server serves.
func (s *bundleServer) serve(body []byte) {
	sum := sha256.Sum256(body)
	s.mu.Lock()
	s.body, s.etag, s.status = body, `"`+hex.EncodeToString(sum[:8])+`"`, 0
	s.mu.Unlock()
}

// fail makes every request get status.
func (s *bundleServer) fail(status int) {
	s.mu.Lock()
	s.status = status
	s.mu.Unlock()
}

// seen returns the requests so far.
func (s *bundleServer) seen() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.requests...)
}

// fixture is what most tests share: a key pair and the bundles made with it.
type fixture struct {
	sign   bundle.Signing
	verify bundle.Verification
	// good and other are two signed revisions of the policy; other grants
	// workspace:view to nobody.
	good, other *opabundle.Bundle
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sign, verify := bundletest.Keys(t, bundle.AlgES256)
	other := bundletest.Policy(t, map[string]string{
		"rolegate/model/model.rego": bundletest.Edit(t, "rolegate/model/model.rego",
			`"workspace:view": "workspace",`, ""),
	})
	return &fixture{
		sign:   sign,
		verify: verify,
		good:   bundletest.Sign(t, bundletest.Policy(t, nil), sign),
		other:  bundletest.Sign(t, other, sign),
	}
}

// urlConfig returns a config for the server's bundle, checked with the fixture's
// key and never polled in the background.
func (f *fixture) urlConfig(url string) source.Config {
	return source.Config{URL: url, Verification: f.verify, PollInterval: time.Hour}
}

// rig is a manager of a new engine, and a decision service over that engine.
type rig struct {
	m   *source.Manager
	e   *engine.Engine
	svc *authz.Service
}

func newRig(t *testing.T, cfg source.Config) *rig {
	t.Helper()
	e := engine.New(nil)
	m, err := source.New(cfg, e, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return &rig{m: m, e: e, svc: authz.NewService(e, memory.New(domain.World()))}
}

// servedRig returns a rig that has activated b, served by a new server.
func servedRig(t *testing.T, f *fixture, b *opabundle.Bundle) (*rig, *bundleServer) {
	t.Helper()
	srv := newBundleServer(t, bundletest.Tarball(t, b))
	r := newRig(t, f.urlConfig(srv.URL))
	if err := r.m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := r.e.Policy(); p == nil || p.Revision() != b.Manifest.Revision {
		t.Fatalf("active policy %v, want revision %s", p, b.Manifest.Revision)
	}
	return r, srv
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// outcome is what a decision answered, for comparing whole decisions.
type outcome struct {
	Allow    bool
	Reasons  []engine.Reason
	Revision string
}

// decideAll decides every case of the specification's role matrix.
func decideAll(t *testing.T, svc *authz.Service) []outcome {
	t.Helper()
	cases, err := domain.Cases()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]outcome, len(cases))
	for i, c := range cases {
		d := svc.Decide(context.Background(), &c.Request)
		out[i] = outcome{Allow: d.Allow, Reasons: d.Reasons, Revision: d.PolicyRevision}
	}
	return out
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
