// Package redis is the membership store kept in Redis, for deployments with several
// replicas: a single server, Sentinel or Cluster through one configuration. Writes are
// atomic Lua scripts that bump one revision and publish an invalidation; each store
// keeps a near cache of facts in process memory that those invalidations keep fresh,
// so a warm decision makes no round trip. Failures are membership.ErrUnavailable
// within the configured deadline. The key layout and the guarantees are in
// docs/redis.md.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/rolegate/rolegate/internal/membership"
)

// Store is a membership.Store in Redis with a near cache. It is safe for concurrent
// use.
type Store struct {
	cfg    Config
	log    *slog.Logger
	client goredis.UniversalClient
	keys   keys
	cache  *nearCache
	group  singleflight.Group
	stats  counters

	cancel context.CancelFunc
	done   chan struct{}
	// answered wakes a subscription waiting to try again: Redis answered a read.
	answered chan struct{}

	psMu   sync.Mutex
	pubsub *goredis.PubSub
	closed bool
}

var _ membership.Store = (*Store)(nil)

// counters are the store's statistics, counted with atomics.
type counters struct {
	hits, misses, errors, fetches, invalidations, drops atomic.Uint64
}

// Stats are counts since the store was opened, and its state now; reading them is
// cheap enough for a metrics scrape.
type Stats struct {
	// Hits are lookups answered from the near cache.
	Hits uint64 `json:"hits"`
	// Misses are lookups that went to Redis (including all, with the cache off).
	Misses uint64 `json:"misses"`
	// Errors are lookups that failed.
	Errors uint64 `json:"errors"`
	// Fetches are reads of Redis: those misses made (concurrent misses of one key
	// share one), and those a small write makes to read back what it changed.
	Fetches uint64 `json:"fetches"`
	// Invalidations are invalidation messages applied.
	Invalidations uint64 `json:"invalidations"`
	// Drops are the times the whole cache was emptied: subscription lost, writes
	// missed, or a write that changes everything.
	Drops uint64 `json:"drops"`
	// Subscribed reports whether invalidations arrive, so that the cache is used.
	Subscribed bool `json:"subscribed"`
	// Revision is the revision the store's answers reflect at least.
	Revision uint64 `json:"revision"`
	// Entries is the number of users and workspaces in the cache.
	Entries int `json:"entries"`
}

// Open returns a store over the Redis that cfg describes; zero fields of cfg take
// their defaults. With the cache enabled it subscribes to invalidations in the
// background and uses the cache once subscribed. It does not wait for Redis: a store
// opened while Redis is down answers ErrUnavailable until Redis is back.
func Open(cfg Config, log *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client, err := cfg.client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		cfg: cfg, log: log, client: client, keys: newKeys(cfg.Namespace),
		cache:  newNearCache(cfg.MaxStaleness, cfg.MaxCacheEntries),
		cancel: cancel, done: make(chan struct{}), answered: make(chan struct{}, 1),
	}
	if !cfg.CacheEnabled {
		close(s.done)
		return s, nil
	}
	go s.subscribe(ctx)
	return s, nil
}

// Close stops the subscription and closes the connections.
func (s *Store) Close() error {
	s.cancel()
	s.psMu.Lock()
	s.closed = true
	if s.pubsub != nil {
		_ = s.pubsub.Close()
	}
	s.psMu.Unlock()
	<-s.done
	return s.client.Close()
}

// Ping reports whether Redis answers within the lookup deadline.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.LookupTimeout)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis: %w", unavailable(err))
	}
	s.redisAnswered()
	return nil
}

// Lookups returns the lookup counters of Stats: hits from the near cache, misses that
// went to Redis, errors.
func (s *Store) Lookups() membership.LookupStats {
	return membership.LookupStats{
		Hits: s.stats.hits.Load(), Misses: s.stats.misses.Load(), Errors: s.stats.errors.Load(),
	}
}

// Stats returns the store's counters and state.
func (s *Store) Stats() Stats {
	return Stats{
		Hits:          s.stats.hits.Load(),
		Misses:        s.stats.misses.Load(),
		Errors:        s.stats.errors.Load(),
		Fetches:       s.stats.fetches.Load(),
		Invalidations: s.stats.invalidations.Load(),
		Drops:         s.stats.drops.Load(),
		Subscribed:    s.cache.live.Load(),
		Revision:      s.cache.applied.Load(),
		Entries:       s.cache.entries(),
	}
}

// unavailable wraps an error of the Redis client as membership.ErrUnavailable.
func unavailable(err error) error {
	if errors.Is(err, membership.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", membership.ErrUnavailable, err)
}

// bounded returns ctx limited to the lookup deadline.
func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.LookupTimeout)
}

// sleep waits d or until ctx ends, and reports whether it waited the whole d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
