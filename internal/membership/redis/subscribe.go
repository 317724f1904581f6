package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/rolegate/rolegate/internal/membership"
)

// Backoff between attempts to subscribe again.
const (
	minResubscribe = 50 * time.Millisecond
	maxResubscribe = 2 * time.Second
)

// subscribe keeps a subscription to the invalidations until ctx ends, and sweeps
// the cache of entries too old to use. Each time the subscription is lost the cache
// admits nothing until a new one is confirmed, which empties it; meanwhile what it
// holds answers until max_staleness old.
func (s *Store) subscribe(ctx context.Context) {
	defer close(s.done)
	go s.sweep(ctx)
	wait := minResubscribe
	for {
		established, err := s.listen(ctx)
		s.cache.lose()
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("membership subscription lost; cached facts serve until max_staleness", "error", err)
		if established {
			wait = minResubscribe
		}
		if !s.pause(ctx, wait) {
			return
		}
		wait = min(2*wait, maxResubscribe)
	}
}

// pause waits d before the next attempt to subscribe, or only minResubscribe when
// Redis answers a read meanwhile: it is back, and every moment unsubscribed is a
// moment of readiness lost. It reports false when ctx ended.
func (s *Store) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	if !sleep(ctx, minResubscribe) {
		return false
	}
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-s.answered:
	}
	return true
}

// redisAnswered tells a waiting subscription that Redis answers again.
func (s *Store) redisAnswered() {
	if s.cache.live.Load() {
		return
	}
	select {
	case s.answered <- struct{}{}:
	default:
	}
}

// listen subscribes and applies invalidations until the subscription fails. It
// reports whether the subscription was confirmed at least once.
func (s *Store) listen(ctx context.Context) (established bool, err error) {
	ps, err := s.openPubSub(ctx)
	if err != nil {
		return false, err
	}
	defer ps.Close()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, s.cfg.PingInterval)
		if isTimeout(err) && !pinged {
			// Quiet: ask, and take the next silence as a lost connection.
			if err := ps.Ping(ctx); err != nil {
				return established, fmt.Errorf("ping subscription: %w", err)
			}
			pinged = true
			continue
		}
		if err != nil {
			return established, fmt.Errorf("receive invalidation: %w", err)
		}
		pinged = false
		switch m := msg.(type) {
		case *goredis.Subscription:
			if err := s.subscribed(ctx, m, established); err != nil {
				return established, err
			}
			established = true
		case *goredis.Message:
			s.invalidate(m.Payload)
		}
	}
}

func (s *Store) openPubSub(ctx context.Context) (*goredis.PubSub, error) {
	s.psMu.Lock()
	defer s.psMu.Unlock()
	if s.closed {
		return nil, errors.New("store closed")
	}
	s.pubsub = s.client.Subscribe(ctx, s.keys.invalidation)
	return s.pubsub, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// subscribed handles a subscription confirmation. A confirmation after the first
// means the client reconnected on its own and invalidations may have been missed,
// so the cache starts over. Either way the revision is read after the confirmation:
// every write after it will be announced.
func (s *Store) subscribed(ctx context.Context, m *goredis.Subscription, again bool) error {
	if m.Kind != "subscribe" {
		return fmt.Errorf("unexpected %s of %s", m.Kind, m.Channel)
	}
	if again {
		s.cache.lose()
		s.log.Warn("membership subscription renewed")
	}
	rctx, cancel := s.bounded(ctx)
	defer cancel()
	rev, err := s.readRevision(rctx)
	if err != nil {
		return fmt.Errorf("read revision after subscribing: %w", err)
	}
	if before := s.cache.applied.Load(); rev < before {
		s.log.Warn("membership revision went backwards: redis lost writes", "revision", rev, "was", before)
	}
	if s.cache.establish(rev) {
		s.stats.drops.Add(1)
	}
	s.log.Info("membership subscription established", "revision", rev)
	return nil
}

// invalidate applies one invalidation message.
func (s *Store) invalidate(payload string) {
	inv, err := decodeInvalidation(payload)
	if err != nil {
		// Something unknown was written: nothing cached can be trusted.
		s.log.Warn("membership invalidation unreadable, cache dropped", "error", err)
		s.cache.forgetAll(0)
		s.stats.drops.Add(1)
		return
	}
	s.stats.invalidations.Add(1)
	if s.cache.apply(inv) {
		s.stats.drops.Add(1)
	}
}

// sweep removes stale entries every MaxStaleness, or every second if that is
// shorter, until ctx ends.
func (s *Store) sweep(ctx context.Context) {
	t := time.NewTicker(max(s.cfg.MaxStaleness, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.cache.sweep()
		}
	}
}

// Sync implements membership.Store. It returns at once when the store's answers
// reflect rev. Otherwise, with the cache live, it waits up to SyncWait for the
// invalidations to arrive; if they do not, or without a live cache, it reads the
// revision from Redis and, when that has reached rev, drops the cache and adopts it,
// so that no answer older than rev is given after Sync returns.
func (s *Store) Sync(ctx context.Context, rev uint64) error {
	if s.cache.applied.Load() >= rev {
		return nil
	}
	if s.cache.live.Load() {
		wctx, cancel := context.WithTimeout(ctx, s.cfg.SyncWait)
		reached := s.waitApplied(wctx, rev)
		cancel()
		if reached {
			return nil
		}
	}
	rctx, cancel := s.bounded(ctx)
	defer cancel()
	current, err := s.readRevision(rctx)
	if err != nil {
		return fmt.Errorf("sync to revision %d: %w: %w", rev, membership.ErrStale, err)
	}
	if current < rev {
		return fmt.Errorf("sync to revision %d, redis at %d: %w", rev, current, membership.ErrStale)
	}
	s.cache.adopt(current)
	return nil
}

// waitApplied waits until the cache has applied rev or ctx ends, and reports which.
func (s *Store) waitApplied(ctx context.Context, rev uint64) bool {
	for {
		changed := s.cache.waitChange()
		if s.cache.applied.Load() >= rev {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
}
