// Package source keeps an engine's active policy current from where the policy
// comes from: a directory (development), a bundle file, or a bundle service polled
// over HTTP with ETags. A new revision is read, verified and compiled completely
// before it replaces the old one in one atomic step; anything that fails on the way
// changes nothing, and the last good revision keeps serving.
package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/policy"
)

// Manager keeps an engine's active policy current from one source; nothing else
// should activate policies on that engine. Its methods are safe for concurrent use.
type Manager struct {
	cfg      Config
	kind     Kind
	origin   Origin
	engine   *engine.Engine
	log      *slog.Logger
	client   *http.Client
	envToken string
	read     bundle.ReadOptions
	now      func() time.Time
	stats    counters

	// refreshMu makes refreshes one at a time; it guards etag and digest, which
	// describe the active bundle, and rejected.
	refreshMu sync.Mutex
	etag      string
	digest    string
	// rejected is the last bundle that failed to read, verify or compile, so that
	// the same bytes served again fail at once rather than being verified and
	// compiled anew on every poll.
	rejected rejection

	mu          sync.Mutex // guards the fields below
	active      *Active
	lastRefresh time.Time
	lastError   *Failure
	staleLogged bool

	runMu  sync.Mutex // guards cancel and done
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a manager of e's policy from the source cfg describes, once cfg is
// valid. It loads nothing until Start or Refresh. A nil log discards.
func New(cfg Config, e *engine.Engine, log *slog.Logger) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("policy source: %w", err)
	}
	if e == nil {
		return nil, errors.New("policy source: no engine")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	m := &Manager{
		cfg:      cfg,
		kind:     cfg.Kind(),
		engine:   e,
		log:      log,
		now:      time.Now,
		client:   &http.Client{Timeout: cfg.Timeout, Transport: http.DefaultTransport.(*http.Transport).Clone()},
		envToken: envToken(cfg.TokenEnv),
		read:     bundle.ReadOptions{MaxFileBytes: cfg.MaxBundleBytes},
	}
	m.origin = Origin{Kind: m.kind, Location: m.location()}
	if cfg.Verification.KeyFile != "" {
		var err error
		if m.read.Verify, err = cfg.Verification.Config(); err != nil {
			return nil, fmt.Errorf("policy source: %w", err)
		}
	}
	if sendsTokenInClear(&cfg) {
		log.Warn("bearer token sent over plain http", "url", m.origin.Location)
	}
	return m, nil
}

func (m *Manager) location() string {
	switch m.kind {
	case KindURL:
		return redactURL(m.cfg.URL)
	case KindFile:
		return absolute(m.cfg.File)
	default:
		return absolute(m.cfg.Directory)
	}
}

func absolute(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// Refresh checks the source once and activates a new revision if there is one. An
// error has been logged and counted, and StageOf tells where it happened; the
// active policy did not change, except after a StagePersist error, where the new
// policy is active and only its copy on disk is missing.
func (m *Manager) Refresh(ctx context.Context) error {
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	m.stats.refreshes.Add(1)
	var err error
	switch m.kind {
	case KindURL:
		err = m.refreshURL(ctx)
	case KindFile:
		err = m.refreshFile(ctx)
	default:
		err = m.refreshDirectory(ctx)
	}
	// A refresh cut short by Stop is no failure of the source.
	if err != nil && ctx.Err() == nil {
		m.failed(ctx, err)
	}
	return err
}

func (m *Manager) refreshURL(ctx context.Context) error {
	resp, err := m.download(ctx, m.etag)
	if err != nil {
		return failAt(StageDownload, err)
	}
	if resp.notModified {
		return m.unchanged(resp.etag)
	}
	return m.apply(ctx, candidate{raw: resp.body, origin: m.origin, etag: resp.etag, at: m.now()})
}

func (m *Manager) refreshFile(ctx context.Context) error {
	raw, err := readFile(m.cfg.File, m.cfg.MaxBundleBytes)
	if err != nil {
		return failAt(StageRead, err)
	}
	return m.apply(ctx, candidate{raw: raw, origin: m.origin, at: m.now()})
}

func (m *Manager) refreshDirectory(ctx context.Context) error {
	b, err := policy.Load(m.cfg.Directory)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return failAt(StageRead, err)
		}
		return failAt(StageParse, err)
	}
	// The revision is a hash of the sources without their tests: a change to a
	// test alone leaves the policy as it is.
	if b.Manifest.Revision == m.digest {
		return m.unchanged("")
	}
	p, err := engine.Compile(ctx, b)
	if err != nil {
		return failAt(StageCompile, err)
	}
	m.activate(p, candidate{origin: m.origin, at: m.now()})
	m.digest = b.Manifest.Revision
	return nil
}

// candidate is a bundle on its way to activation.
type candidate struct {
	raw    []byte
	origin Origin
	etag   string
	// at is when the source last vouched for the bundle: now for a download, the
	// recorded time for a persisted copy. The policy's age counts from it.
	at time.Time
}

// rejection is a bundle that failed, by the digest of its bytes, with its failure.
type rejection struct {
	digest string
	err    error
}

// apply reads, verifies and compiles the candidate, then activates it. Identical
// bytes to the active bundle's count as unchanged and compile nothing; identical
// bytes to the last rejected bundle's fail again as they did.
func (m *Manager) apply(ctx context.Context, c candidate) error {
	sum := sha256.Sum256(c.raw)
	digest := hex.EncodeToString(sum[:])
	switch digest {
	case m.digest:
		return m.unchanged(c.etag)
	case m.rejected.digest:
		return m.rejected.err
	}
	err := m.compileAndActivate(ctx, c, digest)
	// A failure of the bytes themselves is remembered; one of this refresh's context
	// or of persisting the new policy is not.
	if err != nil && StageOf(err) != StagePersist && ctx.Err() == nil {
		m.rejected = rejection{digest: digest, err: err}
	}
	return err
}

// compileAndActivate reads, verifies and compiles the candidate, activates it and
// persists it.
func (m *Manager) compileAndActivate(ctx context.Context, c candidate, digest string) error {
	b, err := bundle.ReadWith(bytes.NewReader(c.raw), m.read)
	if err != nil {
		if errors.Is(err, bundle.ErrSignature) {
			return failAt(StageVerify, err)
		}
		return failAt(StageParse, err)
	}
	// A bundle built without a revision (opa build sets none) gets its content
	// hash, so that every decision still names the policy that made it.
	if b.Manifest.Revision == "" {
		if b.Manifest.Revision, err = policy.Revision(b); err != nil {
			return failAt(StageParse, err)
		}
	}
	p, err := engine.Compile(ctx, b)
	if err != nil {
		return failAt(StageCompile, err)
	}
	m.activate(p, c)
	m.digest, m.etag = digest, c.etag
	if c.origin.Kind == KindURL && m.cfg.PersistDir != "" {
		return m.persist(c.raw, record{ETag: c.etag, Digest: digest, RefreshedAt: c.at})
	}
	return nil
}

// activate makes p the engine's policy, stale MaxPolicyAge after c.at.
func (m *Manager) activate(p *engine.Policy, c candidate) {
	m.engine.ActivateUntil(p, m.staleAt(c.at))
	m.stats.activations.Add(1)
	m.mu.Lock()
	m.active = &Active{Revision: p.Revision(), Origin: c.origin, ETag: c.etag, ActivatedAt: m.now()}
	m.lastRefresh = c.at
	m.staleLogged = false
	m.mu.Unlock()
	m.log.Info("policy activated", "revision", p.Revision(), "source", c.origin.Kind,
		"location", c.origin.Location)
}

// unchanged records that the source still has the active policy, which is then
// fresh again.
func (m *Manager) unchanged(etag string) error {
	now := m.now()
	m.stats.unchanged.Add(1)
	if p := m.engine.Policy(); p != nil {
		m.engine.Renew(p, m.staleAt(now))
	}
	m.mu.Lock()
	m.lastRefresh = now
	m.staleLogged = false
	m.mu.Unlock()
	m.etag = etag
	m.log.Debug("policy unchanged", "source", m.origin.Kind)
	if m.kind == KindURL && m.cfg.PersistDir != "" && m.digest != "" {
		return m.persistRecord(record{ETag: etag, Digest: m.digest, RefreshedAt: now})
	}
	return nil
}

func (m *Manager) staleAt(refreshed time.Time) time.Time {
	if m.cfg.MaxPolicyAge <= 0 {
		return time.Time{}
	}
	return refreshed.Add(m.cfg.MaxPolicyAge)
}

// failed records, counts and logs a failed refresh: a warning while a policy
// serves, an error when none does or it went stale.
func (m *Manager) failed(ctx context.Context, err error) {
	stage := StageOf(err)
	m.stats.fail(stage)
	now := m.now()
	p, staleAt := m.engine.Active()
	m.mu.Lock()
	m.lastError = &Failure{Stage: stage, Error: cause(err).Error(), At: now}
	logStale := isStale(staleAt, now) && !m.staleLogged
	m.staleLogged = m.staleLogged || logStale
	m.mu.Unlock()

	level, revision := slog.LevelError, ""
	if p != nil {
		level, revision = slog.LevelWarn, p.Revision()
	}
	m.log.Log(ctx, level, "policy refresh failed", "stage", stage, "error", cause(err),
		"source", m.origin.Kind, "revision", revision)
	if logStale {
		m.log.Error("policy stale", "revision", revision, "stale_at", staleAt)
	}
}

func isStale(staleAt, now time.Time) bool { return !staleAt.IsZero() && now.After(staleAt) }
