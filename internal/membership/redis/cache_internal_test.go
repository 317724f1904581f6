package redis

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rolegate/rolegate/internal/membership"
)

func TestPackRoundTrip(t *testing.T) {
	crowded := newSymbols()
	for i := range symInline {
		crowded.code(fmt.Sprintf("role-%d", i))
	}
	expires := time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("UTC+8", 8*3600))
	tests := []struct {
		name string
		syms *symbols
		ms   []membership.Membership
	}{
		{"none", newSymbols(), nil},
		{"plain", newSymbols(), []membership.Membership{
			{User: "u-1", Workspace: "tw-a", Role: "workspace_admin", Status: membership.StatusActive},
		}},
		{"everything", newSymbols(), []membership.Membership{
			{
				User: "u-1", Workspace: "dw-x", Role: "developer", Status: membership.StatusBlocked,
				MiniPrograms: []string{"mp-1", "mp-2", ""},
			},
			{
				User: "u-1", Workspace: "tw-a", Role: "workspace_reviewer", Status: membership.StatusInvited,
				ExpiresAt: expires,
			},
			{User: "u-1", Workspace: "tw-b", Role: "", Status: "suspended"},
			{
				User: "u-1", Workspace: "", Role: "operator", Status: membership.StatusActive,
				ExpiresAt: time.Unix(-5, 7),
			},
		}},
		{"symbol table full", crowded, []membership.Membership{
			{User: "u-1", Workspace: "tw-a", Role: "a_new_role", Status: membership.StatusActive},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			packed := packUser(tt.syms, 12345, "u-1", tt.ms)
			if packedAt(packed) != 12345 || packedUser(packed) != "u-1" {
				t.Fatalf("stamp %d, user %q", packedAt(packed), packedUser(packed))
			}
			got := unpackUser(tt.syms, packed)
			if diff := cmp.Diff(tt.ms, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCacheAdmission(t *testing.T) {
	ms := []membership.Membership{{User: "u", Workspace: "w", Role: "r", Status: membership.StatusActive}}
	cached := func(c *nearCache) bool {
		_, ok := c.user("u")
		return ok
	}
	tests := []struct {
		name   string
		steps  func(c *nearCache, t ticket)
		rev    uint64
		wantIn bool
	}{
		{"read at the live revision", func(*nearCache, ticket) {}, 5, true},
		{"read before the revision", func(*nearCache, ticket) {}, 4, false},
		{"not subscribed", func(c *nearCache, _ ticket) { c.lose() }, 5, false},
		{"subscription lost during the read", func(c *nearCache, _ ticket) { c.lose(); c.establish(5) }, 5, false},
		{"invalidation during the read", func(c *nearCache, _ ticket) {
			c.apply(invalidation{Rev: 6, changes: changes{Users: []string{"other"}}})
		}, 5, false},
		{"own write during the read", func(c *nearCache, _ ticket) { c.forget(6, nil, []string{"other"}) }, 5, false},
		{"read after the invalidation", func(c *nearCache, _ ticket) {
			c.apply(invalidation{Rev: 6, changes: changes{Users: []string{"u"}}})
		}, 6, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newNearCache(time.Minute, 100*numShards)
			c.establish(5)
			tk := c.ticket()
			tt.steps(c, tk)
			c.putUser(tk, tt.rev, "u", ms)
			if got := cached(c); got != tt.wantIn {
				t.Fatalf("cached = %v, want %v", got, tt.wantIn)
			}
		})
	}
}

func TestCacheInvalidation(t *testing.T) {
	ms := []membership.Membership{{User: "u", Workspace: "w", Role: "r", Status: membership.StatusActive}}
	tests := []struct {
		name        string
		inv         invalidation
		wantU, want bool // u still cached, v still cached
		wantApplied uint64
	}{
		{"the user's write", invalidation{Rev: 6, changes: changes{Users: []string{"u"}}}, false, true, 6},
		{"another user's write", invalidation{Rev: 6, changes: changes{Users: []string{"x"}}}, true, true, 6},
		{"an old write", invalidation{Rev: 5, changes: changes{Users: []string{"u"}}}, true, true, 5},
		{"a write that changes everything", invalidation{Rev: 6, changes: changes{All: true}}, false, false, 6},
		{"a missed write", invalidation{Rev: 8, changes: changes{Users: []string{"x"}}}, false, false, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newNearCache(time.Minute, 100*numShards)
			c.establish(5)
			c.putUser(c.ticket(), 5, "u", ms)
			c.putUser(c.ticket(), 5, "v", ms)
			c.apply(tt.inv)
			_, u := c.user("u")
			_, v := c.user("v")
			if u != tt.wantU || v != tt.want || c.applied.Load() != tt.wantApplied {
				t.Fatalf("u cached %v, v cached %v, applied %d; want %v, %v, %d",
					u, v, c.applied.Load(), tt.wantU, tt.want, tt.wantApplied)
			}
		})
	}
}

func TestCacheStaysWithinMaxEntries(t *testing.T) {
	c := newNearCache(time.Minute, numShards*2)
	c.establish(1)
	for i := range 1000 {
		c.putUser(c.ticket(), 1, fmt.Sprintf("u-%d", i), nil)
	}
	if n := c.entries(); n > numShards*2 {
		t.Fatalf("%d entries, want at most %d", n, numShards*2)
	}
}

// BenchmarkUnpackUser measures a warm hit's decoding of a user with ten memberships,
// half of them with assigned mini programs, as the benchmark's data set has.
func BenchmarkUnpackUser(b *testing.B) {
	y := newSymbols()
	ms := make([]membership.Membership, 10)
	for i := range ms {
		ms[i] = membership.Membership{
			User: "u-0000042", Workspace: fmt.Sprintf("dw-%06d", i), Role: "developer",
			Status: membership.StatusActive,
		}
		if i%2 == 0 {
			ms[i].MiniPrograms = []string{fmt.Sprintf("mp-%06d-1", i), fmt.Sprintf("mp-%06d-2", i)}
		}
	}
	packed := packUser(y, 1, "u-0000042", ms)
	b.ReportAllocs()
	for b.Loop() {
		if got := unpackUser(y, packed); len(got) != len(ms) {
			b.Fatalf("%d memberships", len(got))
		}
	}
}

// TestCacheAfterLoss: losing the subscription keeps the entries, to answer while Redis
// is out of reach; a new subscription or a newer revision read from Redis drops them.
func TestCacheAfterLoss(t *testing.T) {
	ms := []membership.Membership{{User: "u", Workspace: "w", Role: "r", Status: membership.StatusActive}}
	tests := []struct {
		name   string
		steps  func(c *nearCache)
		wantIn bool
	}{
		{"lost", func(c *nearCache) { c.lose() }, true},
		{"lost, then the same revision read", func(c *nearCache) { c.lose(); c.adopt(5) }, true},
		{"lost, then a newer revision read", func(c *nearCache) { c.lose(); c.adopt(6) }, false},
		{"lost, then subscribed again", func(c *nearCache) { c.lose(); c.establish(5) }, false},
		{"lost, then swept after max age", func(c *nearCache) {
			c.lose()
			time.Sleep(20 * time.Millisecond)
			c.sweep()
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newNearCache(10*time.Millisecond, 100*numShards)
			c.establish(5)
			c.putUser(c.ticket(), 5, "u", ms)
			tt.steps(c)
			sh, h := c.userShard("u")
			sh.mu.RLock()
			_, in := sh.users[h]
			sh.mu.RUnlock()
			if in != tt.wantIn {
				t.Fatalf("entry kept = %v, want %v", in, tt.wantIn)
			}
		})
	}
}
