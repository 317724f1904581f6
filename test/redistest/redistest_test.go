package redistest_test

import (
	"context"
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/rolegate/rolegate/test/redistest"
)

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestServerLifecycle(t *testing.T) {
	tests := []struct {
		name       string
		opts       redistest.Options
		wantRemain bool
	}{
		{"tcp, no persistence", redistest.Options{}, false},
		{"unix socket, append-only", redistest.Options{Socket: true, AppendOnly: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := redistest.Start(t, tt.opts)
			c := s.Client(t)
			if err := c.Set(ctx(t), "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			s.Kill()
			if err := c.Ping(ctx(t)).Err(); err == nil {
				t.Fatal("a killed server answers")
			}
			s.Restart()
			got, err := c.Get(ctx(t), "k").Result()
			if remains := err == nil && got == "v"; remains != tt.wantRemain {
				t.Fatalf("after kill and restart: %q, %v; want the key kept: %v", got, err, tt.wantRemain)
			}
		})
	}
}

func TestPauseAndResume(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	c := s.Client(t)
	s.Pause()
	short, cancel := context.WithTimeout(ctx(t), 200*time.Millisecond)
	defer cancel()
	if err := c.Ping(short).Err(); err == nil {
		t.Fatal("a paused server answers")
	}
	s.Resume()
	if err := c.Ping(ctx(t)).Err(); err != nil {
		t.Fatalf("a resumed server: %v", err)
	}
}

func TestProxy(t *testing.T) {
	s := redistest.Start(t, redistest.Options{})
	p := redistest.StartProxy(t, s.Addr)
	c := goredis.NewClient(&goredis.Options{Addr: p.Addr, ReadTimeout: 300 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(ctx(t)).Err(); err != nil {
		t.Fatal(err)
	}

	p.SetDelay(100 * time.Millisecond)
	start := time.Now()
	if err := c.Ping(ctx(t)).Err(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("a delayed round trip took %v, want at least 200ms", took)
	}
	p.SetDelay(0)

	p.Blackhole(true)
	var netErr interface{ Timeout() bool }
	if err := c.Ping(ctx(t)).Err(); !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("ping through a black hole: error %v, want a timeout", err)
	}
	p.Blackhole(false)
	if err := c.Ping(ctx(t)).Err(); err != nil {
		t.Fatalf("ping after the black hole: %v", err)
	}
}

func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	cc := c.Client(t)
	for _, key := range []string{"a", "b", "c", "{rolegate}:x"} {
		if err := cc.Set(ctx(t), key, "v", 0).Err(); err != nil {
			t.Fatalf("set %s: %v", key, err)
		}
	}
	var masters atomic.Int32
	err := cc.ForEachMaster(ctx(t), func(context.Context, *goredis.Client) error {
		masters.Add(1)
		return nil
	})
	if err != nil || masters.Load() != 3 {
		t.Fatalf("masters = %d, %v; want 3", masters.Load(), err)
	}
	for _, n := range c.Nodes {
		if _, err := os.Stat(n.Dir + "/nodes.conf"); err != nil {
			t.Errorf("node %s: %v", n.Addr, err)
		}
	}
}
