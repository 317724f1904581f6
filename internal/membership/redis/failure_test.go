package redis_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/redis"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/test/redistest"
)

// failureDeadline is the lookup deadline of the failure tests, and slack what a
// busy machine may add to it.
const (
	failureDeadline = 500 * time.Millisecond
	slack           = time.Second
)

var (
	compileOnce sync.Once
	compiled    *engine.Policy
	compileErr  error
)

// service returns the decision service over the store, with the built-in policy.
func service(t *testing.T, s membership.Reader) *authz.Service {
	t.Helper()
	compileOnce.Do(func() {
		b, err := policy.Load("")
		if err != nil {
			compileErr = err
			return
		}
		compiled, compileErr = engine.Compile(context.Background(), b)
	})
	if compileErr != nil {
		t.Fatal(compileErr)
	}
	return authz.NewService(engine.New(compiled), s)
}

// view asks whether the user may view the workspace.
func view(svc *authz.Service, user, workspace string) authz.Decision {
	return svc.Decide(context.Background(), &authz.Request{
		Subject: user, Action: "workspace:view", Resource: authz.Resource{Workspace: workspace},
	})
}

func unavailableDenial(d authz.Decision) bool {
	return !d.Allow && len(d.Reasons) == 1 && d.Reasons[0].Code == authz.CodeMembershipUnavailable
}

// assertUnavailable looks up a user no cache holds and wants ErrUnavailable within
// the deadline, and the same user's decision denied with membership_unavailable.
func assertUnavailable(t *testing.T, s *redis.Store, svc *authz.Service, user, workspace string) {
	t.Helper()
	start := time.Now()
	_, err := s.UserMemberships(context.Background(), user)
	took := time.Since(start)
	if !errors.Is(err, membership.ErrUnavailable) {
		t.Fatalf("lookup of %s: error %v, want ErrUnavailable", user, err)
	}
	if took > failureDeadline+slack {
		t.Fatalf("lookup of %s failed after %v, past the deadline %v", user, took, failureDeadline)
	}
	t.Logf("lookup of %s failed in %v: %v", user, took, err)
	if d := view(svc, user, workspace); !unavailableDenial(d) {
		t.Fatalf("decision for %s = %+v, want a membership_unavailable denial", user, d)
	}
}

func failureConfig(url string) redis.Config {
	cfg := config(url)
	cfg.LookupTimeout = failureDeadline
	cfg.ReadTimeout, cfg.WriteTimeout = failureDeadline, failureDeadline
	return cfg
}

// TestRedisKilled kills Redis while decisions flow: a blocked member is never
// allowed, lookups of facts not cached fail within the deadline, decisions go on, and
// they recover after a restart.
func TestRedisKilled(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	s := open(t, failureConfig(srv.URL()))
	seed(t, s)
	svc := service(t, s)

	var f flow
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { f.run(svc, stop) })

	time.Sleep(100 * time.Millisecond)
	srv.Kill()
	waitFor(t, "the store to notice", 10*time.Second, func() bool { return !s.Stats().Subscribed })
	assertUnavailable(t, s, svc, "u-ann", "tw-a")
	during := f.decisions.Load()
	waitFor(t, "decisions to go on with Redis down", 10*time.Second, func() bool {
		return f.decisions.Load() > during+100
	})

	srv.Restart()
	took := waitFor(t, "decisions to recover", 15*time.Second, func() bool {
		return view(svc, "u-dana", "dw-x").Allow && s.Stats().Subscribed
	})
	close(stop)
	wg.Wait()
	t.Logf("%d decisions while Redis was killed and restarted: %d denied as unavailable, "+
		"recovered %v after the restart", f.decisions.Load(), f.unavailable.Load(), took)
	if n := f.allowedBlocked.Load(); n != 0 {
		t.Fatalf("the blocked member was allowed %d times", n)
	}
}

// TestCachedFactsOutliveRedis kills Redis: facts cached before the kill are still
// served, at the revision they were read at, until they are MaxStaleness old and then
// denied as unavailable; facts not cached are unavailable at once.
func TestCachedFactsOutliveRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	cfg := failureConfig(srv.URL())
	cfg.MaxStaleness = 1500 * time.Millisecond
	s := open(t, cfg)
	rev := seed(t, s)
	svc := service(t, s)
	cached := time.Now()
	if d := view(svc, "u-dana", "dw-x"); !d.Allow {
		t.Fatalf("decision before the kill = %+v, want allowed", d)
	}

	srv.Kill()
	waitFor(t, "the store to notice", 10*time.Second, func() bool { return !s.Stats().Subscribed })
	d := view(svc, "u-dana", "dw-x")
	if age := time.Since(cached); age < cfg.MaxStaleness && (!d.Allow || d.MembershipRevision != rev) {
		t.Fatalf("decision on facts cached %v ago, Redis down = %+v, want allowed at revision %d", age, d, rev)
	}
	assertUnavailable(t, s, svc, "u-ann", "tw-a")
	waitFor(t, "the cached facts to go stale", 10*time.Second, func() bool {
		return unavailableDenial(view(svc, "u-dana", "dw-x"))
	})
	if age := time.Since(cached); age < cfg.MaxStaleness {
		t.Errorf("cached facts refused %v after they were read, before MaxStaleness %v", age, cfg.MaxStaleness)
	}
}

// flow asks decisions until stopped: a blocked member's, which must never be
// allowed, and an active member's, counting its membership_unavailable denials.
type flow struct {
	allowedBlocked, unavailable, decisions atomic.Int64
}

func (f *flow) run(svc *authz.Service, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if view(svc, "u-tom", "tw-b").Allow {
			f.allowedBlocked.Add(1)
		}
		if d := view(svc, "u-dana", "dw-x"); unavailableDenial(d) {
			f.unavailable.Add(1)
		}
		f.decisions.Add(2)
	}
}

// TestRedisPaused stops Redis without closing a connection: facts in the cache are
// still served, others fail within the deadline, and all recovers on resume.
func TestRedisPaused(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	cfg := failureConfig(srv.URL())
	cfg.PingInterval = time.Minute // the subscription does not notice within the test
	s := open(t, cfg)
	seed(t, s)
	svc := service(t, s)
	if d := view(svc, "u-dana", "dw-x"); !d.Allow {
		t.Fatalf("decision before the pause = %+v, want allowed", d)
	}

	srv.Pause()
	t.Cleanup(srv.Resume)
	if d := view(svc, "u-dana", "dw-x"); !d.Allow {
		t.Fatalf("decision on cached facts while paused = %+v, want allowed", d)
	}
	assertUnavailable(t, s, svc, "u-ann", "tw-a")

	srv.Resume()
	waitFor(t, "lookups to recover", 10*time.Second, func() bool { return view(svc, "u-ann", "tw-a").Allow })
}

// TestRedisBlackholed drops every packet between the store and Redis: lookups fail
// within the deadline, the silent subscription is found out by its ping, cached facts
// still answer, and all recovers when packets flow again.
func TestRedisBlackholed(t *testing.T) {
	s, proxy, _ := proxiedStore(t, failureConfig, func(cfg *redis.Config) { cfg.PingInterval = 200 * time.Millisecond })
	svc := service(t, s)
	if d := view(svc, "u-dana", "dw-x"); !d.Allow {
		t.Fatalf("decision before the black hole = %+v, want allowed", d)
	}

	proxy.Blackhole(true)
	assertUnavailable(t, s, svc, "u-ann", "tw-a")
	took := waitFor(t, "the silent subscription to be found out", 10*time.Second, func() bool {
		return !s.Stats().Subscribed
	})
	t.Logf("lost subscription noticed %v after the lookup failed", took)
	if d := view(svc, "u-dana", "dw-x"); !d.Allow {
		t.Fatalf("decision on cached facts with the subscription lost = %+v, want allowed", d)
	}

	proxy.Blackhole(false)
	waitFor(t, "the store to recover", 15*time.Second, func() bool {
		return s.Stats().Subscribed && view(svc, "u-dana", "dw-x").Allow
	})
}

// TestSlowRedisCostsOneLookup slows every round trip to Redis to 200 ms: a decision
// whose workspace and subject are both uncached takes one round trip, not two, as
// its two reads go out together.
func TestSlowRedisCostsOneLookup(t *testing.T) {
	const roundTrip = 200 * time.Millisecond
	s, proxy, _ := proxiedStore(t, config, func(cfg *redis.Config) { cfg.LookupTimeout = 2 * time.Second })
	svc := service(t, s)
	proxy.SetDelay(roundTrip / 2)
	var wg sync.WaitGroup
	for _, u := range []string{"u-ann", "u-bob", "u-rex", "u-none"} {
		// Open the reads' connections beforehand: a new one costs round trips of its own.
		wg.Go(func() { _, _ = s.UserMemberships(context.Background(), u) })
	}
	wg.Wait()

	start := time.Now()
	d := view(svc, "u-dana", "dw-x")
	took := time.Since(start)
	if !d.Allow || took > roundTrip*3/2 {
		t.Fatalf("decision with both facts uncached took %v, round trips of %v: %+v, want allowed in one",
			took, roundTrip, d)
	}
	t.Logf("decision on two uncached facts, %v round trips: %v", roundTrip, took)
}

// TestSlowRedisGainsConnections slows every round trip to Redis to 200 ms, under a
// lookup deadline of 300 ms, which a new connection's handshake (several round
// trips) exceeds. Lookups that had to open connections fail, but the connections and
// the reads go on, so the lookups after them find connections ready.
func TestSlowRedisGainsConnections(t *testing.T) {
	s, proxy, _ := proxiedStore(t, config, func(cfg *redis.Config) { cfg.LookupTimeout = 300 * time.Millisecond })
	proxy.SetDelay(100 * time.Millisecond)

	lookups := func(round string) (failed int) {
		var wg sync.WaitGroup
		var n atomic.Int64
		for i := range 6 {
			wg.Go(func() {
				user := fmt.Sprintf("u-%s%d", round, i)
				if _, err := s.UserMemberships(context.Background(), user); err != nil {
					n.Add(1)
				}
			})
		}
		wg.Wait()
		return int(n.Load())
	}
	t.Logf("%d of 6 concurrent lookups failed while they opened connections", lookups("first"))
	time.Sleep(2 * time.Second) // the handshakes and reads finish
	if failed := lookups("second"); failed > 0 {
		t.Fatalf("%d of 6 concurrent lookups failed after as many had opened connections", failed)
	}
}

// TestResubscribesWhenRedisAnswers keeps Redis down long enough for the subscription's
// backoff to reach its longest, then restarts it: the first lookup Redis answers has
// the store subscribe again at once, not at the end of the backoff.
func TestResubscribesWhenRedisAnswers(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	s := open(t, failureConfig(srv.URL()))
	seed(t, s)

	srv.Kill()
	time.Sleep(1600 * time.Millisecond) // 50 ms doubling: the next wait is 1.6 s
	srv.Restart()
	waitFor(t, "a lookup Redis answers", 5*time.Second, func() bool {
		_, err := s.UserMemberships(context.Background(), "u-ann")
		return err == nil
	})
	took := waitFor(t, "a new subscription", 5*time.Second, func() bool { return s.Stats().Subscribed })
	t.Logf("subscribed again %v after the first lookup Redis answered", took)
	if took > 500*time.Millisecond {
		t.Errorf("subscribed again %v after Redis answered a lookup, want it at once", took)
	}
}
