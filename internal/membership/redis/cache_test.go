package redis_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	goredis "github.com/redis/go-redis/v9"

	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/redis"
	"github.com/rolegate/rolegate/internal/membership/storetest"
	"github.com/rolegate/rolegate/test/redistest"
)

// seed imports the sample data through s, and waits until s and the others reflect
// it, so that the import's invalidation does not empty a cache the test fills.
func seed(t testing.TB, s membership.Store, others ...membership.Store) uint64 {
	t.Helper()
	rev, err := s.Import(context.Background(), storetest.Sample(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range append(others, s) {
		if err := st.Sync(context.Background(), rev); err != nil {
			t.Fatal(err)
		}
	}
	return rev
}

// statusOf returns the status of the user's membership of the workspace as s
// answers, or "" for none.
func statusOf(t testing.TB, s membership.Reader, user, workspace string) membership.Status {
	t.Helper()
	ms, err := s.UserMemberships(context.Background(), user)
	if err != nil {
		t.Fatalf("memberships of %s: %v", user, err)
	}
	for _, m := range ms {
		if m.Workspace == workspace {
			return m.Status
		}
	}
	return ""
}

// setStatus changes a membership's status through the store's Update.
func setStatus(t testing.TB, s membership.Store, user, workspace string, st membership.Status) uint64 {
	t.Helper()
	rev, err := s.Update(context.Background(), workspace, func(tx *membership.Tx) error {
		m := tx.Members[user]
		m.Status = st
		tx.Put(m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// sneak writes a membership straight into Redis, as the store lays it out, without
// bumping the revision or publishing an invalidation: a change the cache cannot know.
func sneak(t testing.TB, c goredis.Cmdable, namespace string, m membership.Membership) {
	t.Helper()
	v, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	p := "{" + namespace + "}:"
	if err := c.HSet(context.Background(), p+"user:"+m.User, m.Workspace, v).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(context.Background(), p+"ws:"+m.Workspace, m.User, v).Err(); err != nil {
		t.Fatal(err)
	}
}

var blockedDana = membership.Membership{
	User: "u-dana", Workspace: "dw-x", Role: "developer_admin", Status: membership.StatusBlocked,
}

// TestInvalidationReachesOtherStores writes through store A and measures how long
// store B, with the old fact cached, goes on answering it.
func TestInvalidationReachesOtherStores(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := config(srv.URL())
	a, b := open(t, cfg), open(t, cfg)
	seed(t, a, b)

	const rounds = 50
	var sinceStart, sinceAck []time.Duration
	for i := range rounds {
		want := []membership.Status{membership.StatusBlocked, membership.StatusActive}[i%2]
		statusOf(t, b, "u-dana", "dw-x") // warm B's cache
		hits := b.Stats().Hits
		if statusOf(t, b, "u-dana", "dw-x") == want || b.Stats().Hits != hits+1 {
			t.Fatalf("round %d: B did not answer the old fact from its cache", i)
		}
		start := time.Now()
		setStatus(t, a, "u-dana", "dw-x", want)
		acked := time.Now()
		for statusOf(t, b, "u-dana", "dw-x") != want {
			if time.Since(acked) > 5*time.Second {
				t.Fatalf("round %d: B still answers the old fact 5s after the write", i)
			}
		}
		seen := time.Now()
		sinceStart, sinceAck = append(sinceStart, seen.Sub(start)), append(sinceAck, seen.Sub(acked))
	}
	slices.Sort(sinceStart)
	slices.Sort(sinceAck)
	t.Logf("B serves the new fact, over %d writes through A: from the write's start median %v, "+
		"p90 %v, max %v; after A acknowledged it median %v, max %v", rounds,
		sinceStart[rounds/2], sinceStart[rounds*9/10], sinceStart[rounds-1], sinceAck[rounds/2], sinceAck[rounds-1])
	if st := b.Stats(); st.Invalidations < rounds {
		t.Errorf("B applied %d invalidations, want at least %d", st.Invalidations, rounds)
	}
}

// TestWriteRefillsWhatItChanged writes through a store: what the write changed is
// read back into its cache, so the next lookup of it is a hit with the new fact.
func TestWriteRefillsWhatItChanged(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s := open(t, config(srv.URL()))
	seed(t, s)
	if st := statusOf(t, s, "u-dana", "dw-x"); st != membership.StatusActive {
		t.Fatalf("status before the write = %q, want active", st)
	}
	before := s.Stats()
	setStatus(t, s, "u-dana", "dw-x", membership.StatusBlocked)
	waitFor(t, "the write's read back", 5*time.Second, func() bool {
		return s.Stats().Fetches > before.Fetches // the user's memberships
	})
	after := s.Stats()
	if st := statusOf(t, s, "u-dana", "dw-x"); st != membership.StatusBlocked {
		t.Fatalf("status after the write = %q, want blocked", st)
	}
	if st := s.Stats(); st.Hits != after.Hits+1 || st.Misses != after.Misses {
		t.Fatalf("the lookup after the write: stats %+v, then %+v; want one hit and no miss", after, st)
	}
}

// TestSubscriptionLossDropsCache changes Redis behind the caches' back, then breaks
// their subscriptions: each store must drop what it cached and read the change.
func TestSubscriptionLossDropsCache(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	admin := srv.Client(t)
	tests := []struct {
		name string
		lose func(t *testing.T)
	}{
		{"client kill type pubsub", func(t *testing.T) {
			if err := admin.Do(context.Background(), "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
				t.Fatal(err)
			}
		}},
		{"redis restart", func(*testing.T) { srv.Restart() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(srv.URL())
			s := open(t, cfg)
			seed(t, s)
			statusOf(t, s, "u-dana", "dw-x")
			sneak(t, admin, cfg.Namespace, blockedDana)
			if st := statusOf(t, s, "u-dana", "dw-x"); st != membership.StatusActive {
				t.Fatalf("status = %s before the loss, want the cached active", st)
			}

			drops := s.Stats().Drops
			tt.lose(t)
			waitFor(t, "the cache to be dropped", 10*time.Second, func() bool { return s.Stats().Drops > drops })
			waitFor(t, "a new subscription", 10*time.Second, func() bool { return s.Stats().Subscribed })
			if st := statusOf(t, s, "u-dana", "dw-x"); st != membership.StatusBlocked {
				t.Fatalf("status = %s after the loss, want blocked as Redis holds it", st)
			}
		})
	}
}

// TestNoCacheWhileUnsubscribed runs a store whose user may not subscribe: it must
// read every fact from Redis and never cache one.
func TestNoCacheWhileUnsubscribed(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	admin := srv.Client(t)
	err := admin.Do(context.Background(),
		"ACL", "SETUSER", "nosub", "on", ">secret", "~*", "&*", "+@all", "-subscribe").Err()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(srv.URL())
	cfg.Username, cfg.Password = "nosub", "secret"
	s, err := redis.Open(cfg, logger(t)) // not open: it would wait for a subscription
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	seed(t, s)

	time.Sleep(200 * time.Millisecond) // time to try subscribing, and fail
	statusOf(t, s, "u-dana", "dw-x")
	sneak(t, admin, cfg.Namespace, blockedDana)
	if st := statusOf(t, s, "u-dana", "dw-x"); st != membership.StatusBlocked {
		t.Fatalf("status = %s, want blocked read from Redis", st)
	}
	if st := s.Stats(); st.Subscribed || st.Hits != 0 || st.Entries != 0 {
		t.Fatalf("stats = %+v, want no subscription, no hit, nothing cached", st)
	}
}

// TestMaxStaleness changes Redis behind the cache's back: the cached fact is used
// until it is MaxStaleness old, never after.
func TestMaxStaleness(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := config(srv.URL())
	cfg.MaxStaleness = 300 * time.Millisecond
	s := open(t, cfg)
	seed(t, s)

	fetched := time.Now()
	statusOf(t, s, "u-dana", "dw-x")
	sneak(t, srv.Client(t), cfg.Namespace, blockedDana)
	st := statusOf(t, s, "u-dana", "dw-x")
	if time.Since(fetched) < cfg.MaxStaleness/2 && st != membership.StatusActive {
		t.Errorf("status = %s while the entry is fresh, want the cached active", st)
	}
	waitFor(t, "the entry to go stale", 5*time.Second, func() bool {
		return statusOf(t, s, "u-dana", "dw-x") == membership.StatusBlocked
	})
	if age := time.Since(fetched); age < cfg.MaxStaleness {
		t.Errorf("the entry was dropped %v after the read, before MaxStaleness %v", age, cfg.MaxStaleness)
	}
}

// callCounter counts the reads of one user's memberships that reach Redis.
type callCounter struct {
	key   string
	calls atomic.Int64
}

func (c *callCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *callCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.count([]goredis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (c *callCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.count(cmds)
		return next(ctx, cmds)
	}
}

func (c *callCounter) count(cmds []goredis.Cmder) {
	for _, cmd := range cmds {
		if args := cmd.Args(); len(args) == 2 && args[0] == "hgetall" && args[1] == c.key {
			c.calls.Add(1)
		}
	}
}

// slowStore opens a store through a proxy that delays every round trip by 2×delay.
func slowStore(t *testing.T, delay time.Duration) (*redis.Store, *callCounter, redis.Config) {
	t.Helper()
	s, proxy, cfg := proxiedStore(t, config, nil)
	counter := &callCounter{key: "{" + cfg.Namespace + "}:user:u-ann"}
	s.AddHook(counter)
	proxy.SetDelay(delay)
	return s, counter, cfg
}

func TestConcurrentMissesShareOneRead(t *testing.T) {
	s, counter, _ := slowStore(t, 200*time.Millisecond)
	const callers = 50
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			<-start
			if st := statusOf(t, s, "u-ann", "tw-a"); st != membership.StatusActive {
				t.Errorf("status = %s, want active", st)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := counter.calls.Load(); n != 1 {
		t.Fatalf("%d concurrent misses made %d reads of Redis, want 1", callers, n)
	}
	if st := s.Stats(); st.Fetches != 1 || st.Misses < callers {
		t.Fatalf("stats = %+v, want %d misses and 1 fetch", st, callers)
	}
}

func TestCancelledCallerDoesNotFailWaiters(t *testing.T) {
	s, counter, _ := slowStore(t, 200*time.Millisecond)
	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := s.UserMemberships(first, "u-ann")
		firstErr <- err
	}()
	waitFor(t, "the first read to start", 5*time.Second, func() bool { return counter.calls.Load() == 1 })

	second := make(chan []membership.Membership, 1)
	go func() {
		ms, err := s.UserMemberships(context.Background(), "u-ann")
		if err != nil {
			t.Errorf("the waiter failed: %v", err)
		}
		second <- ms
	}()
	time.Sleep(50 * time.Millisecond) // let the waiter join the read
	cancel()

	if err := <-firstErr; !errors.Is(err, context.Canceled) || !errors.Is(err, membership.ErrUnavailable) {
		t.Errorf("the cancelled caller's error = %v, want context.Canceled and ErrUnavailable", err)
	}
	if ms := <-second; len(ms) != 2 {
		t.Errorf("the waiter got %v, want u-ann's two memberships", ms)
	}
	if n := counter.calls.Load(); n != 1 {
		t.Errorf("%d reads of Redis, want the one both callers shared", n)
	}
}
