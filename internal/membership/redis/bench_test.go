package redis_test

import (
	"context"
	"testing"

	"github.com/rolegate/rolegate/test/redistest"
)

// BenchmarkUserMemberships measures one user's membership lookup answered from the
// warm near cache, and cold: with the cache off, one round trip to a local Redis.
func BenchmarkUserMemberships(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	for _, bc := range []struct {
		name  string
		cache bool
	}{{"warm", true}, {"cold", false}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := config(srv.URL())
			cfg.CacheEnabled = bc.cache
			s := open(b, cfg)
			seed(b, s)
			ctx := context.Background()
			if _, err := s.UserMemberships(ctx, "u-ann"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				ms, err := s.UserMemberships(ctx, "u-ann")
				if err != nil || len(ms) != 2 {
					b.Fatalf("memberships = %v, %v", ms, err)
				}
			}
		})
	}
}

// BenchmarkWorkspace measures a workspace lookup from the warm near cache.
func BenchmarkWorkspace(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	s := open(b, config(srv.URL()))
	seed(b, s)
	ctx := context.Background()
	if _, err := s.Workspace(ctx, "dw-x"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Workspace(ctx, "dw-x"); err != nil {
			b.Fatal(err)
		}
	}
}
