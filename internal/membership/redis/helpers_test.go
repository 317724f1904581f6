package redis_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/membership/redis"
	"github.com/rolegate/rolegate/test/redistest"
)

var namespaces atomic.Int64

// config returns a configuration of the URL in a namespace of its own, with
// deadlines generous enough for a busy test machine.
func config(url string) redis.Config {
	cfg := redis.DefaultConfig()
	cfg.URL = url
	cfg.Namespace = fmt.Sprintf("test%d", namespaces.Add(1))
	cfg.LookupTimeout = 5 * time.Second
	cfg.ReadTimeout, cfg.WriteTimeout = 5*time.Second, 5*time.Second
	return cfg
}

// open opens a store, closed by the test's cleanup, and waits until its cache is
// subscribed when it has one.
func open(t testing.TB, cfg redis.Config) *redis.Store {
	t.Helper()
	s, err := redis.Open(cfg, logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if cfg.CacheEnabled {
		waitFor(t, "the store to subscribe", 10*time.Second, func() bool { return s.Stats().Subscribed })
	}
	return s
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t testing.TB, what string, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// logger returns a logger that writes to the test's log.
func logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

// testWriter sends a store's log to the test's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// proxiedStore opens a store, seeded, that reaches a Redis of its own through a
// proxy the test can slow or black-hole: mk builds its configuration from the
// proxy's URL, and edit, when set, changes it.
func proxiedStore(t *testing.T, mk func(url string) redis.Config, edit func(*redis.Config),
) (*redis.Store, *redistest.Proxy, redis.Config) {
	t.Helper()
	srv := redistest.Start(t, redistest.Options{})
	proxy := redistest.StartProxy(t, srv.Addr)
	cfg := mk(proxy.URL())
	if edit != nil {
		edit(&cfg)
	}
	s := open(t, cfg)
	seed(t, s)
	return s, proxy, cfg
}
