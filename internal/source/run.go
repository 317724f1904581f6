package source

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotReady is wrapped by Ready's errors.
var ErrNotReady = errors.New("policy not ready")

// Start loads the policy (for a URL, the persisted copy first, then the service),
// then keeps it current in the background until Stop is called or ctx is done.
// A failed first load is logged, counted and shown in Status, and the manager goes
// on trying; Start returns an error only when it cannot watch or start at all.
// It blocks for the first load, up to Timeout for a URL.
func (m *Manager) Start(ctx context.Context) error {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if m.done != nil {
		return errors.New("policy source: already started")
	}
	ctx, cancel := context.WithCancel(ctx)
	loop := m.poll
	if m.kind != KindURL {
		w, err := m.newWatcher()
		if err != nil {
			cancel()
			return fmt.Errorf("policy source: watch %s: %w", m.origin.Location, err)
		}
		loop = func(ctx context.Context) { m.watch(ctx, w) }
	}
	if m.kind == KindURL && m.cfg.PersistDir != "" {
		m.restore(ctx)
	}
	_ = m.Refresh(ctx)

	m.cancel, m.done = cancel, make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		loop(ctx)
	}(m.done)
	return nil
}

// Stop stops the background refreshes Start began and waits for them to end. The
// active policy stays active.
func (m *Manager) Stop() {
	m.runMu.Lock()
	defer m.runMu.Unlock()
	if m.done == nil {
		return
	}
	m.cancel()
	<-m.done
	m.cancel, m.done = nil, nil
	m.client.CloseIdleConnections()
}

// Run starts the manager and keeps the policy current until ctx is done.
func (m *Manager) Run(ctx context.Context) error {
	if err := m.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	m.Stop()
	return nil
}

// poll refreshes from the URL every PollInterval until ctx is done.
func (m *Manager) poll(ctx context.Context) {
	t := time.NewTicker(m.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = m.Refresh(ctx)
		}
	}
}

// Ready returns nil when a policy is active and not stale, and otherwise an error
// wrapping ErrNotReady that says why. It is what a readiness probe asks.
func (m *Manager) Ready() error {
	p, staleAt := m.engine.Active()
	switch {
	case p == nil:
		return fmt.Errorf("%w: no policy is active", ErrNotReady)
	case isStale(staleAt, m.now()):
		return fmt.Errorf("%w: policy %s is stale since %s", ErrNotReady, p.Revision(),
			staleAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// Stats returns the counters; it takes no lock, for metrics scraped often.
func (m *Manager) Stats() Stats { return m.stats.snapshot() }

// Status describes the source, the active policy, freshness, the last failure and
// the counters.
func (m *Manager) Status() Status {
	_, staleAt := m.engine.Active()
	st := Status{Source: m.origin, StaleAt: staleAt, Stale: isStale(staleAt, m.now()), Stats: m.Stats()}
	if err := m.Ready(); err != nil {
		st.Reason = err.Error()
	} else {
		st.Ready = true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.active != nil {
		a := *m.active
		st.Policy = &a
	}
	if m.lastError != nil {
		f := *m.lastError
		st.LastError = &f
	}
	st.LastRefresh = m.lastRefresh
	return st
}
