package redis

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/membership"
)

// fillCache caches n memberships, perUser per user, shaped like real ones: tenant
// and developer roles, a few assigned mini programs, some invitations.
func fillCache(c *nearCache, n, perUser int) {
	roles := []string{"workspace_admin", "workspace_developer", "developer", "operator"}
	t := c.ticket()
	for u := 0; u < n/perUser; u++ {
		user := fmt.Sprintf("u-%08d", u)
		ms := make([]membership.Membership, perUser)
		for i := range ms {
			ms[i] = membership.Membership{
				User: user, Workspace: fmt.Sprintf("dw-%06d", (u*7+i)%50000),
				Role: roles[(u+i)%len(roles)], Status: membership.StatusActive,
			}
			if i%2 == 1 {
				ms[i].MiniPrograms = []string{fmt.Sprintf("mp-%06d", u%100000)}
			}
			if u%10 == 0 {
				ms[i].Status, ms[i].ExpiresAt = membership.StatusInvited, time.Unix(1.9e9, 0)
			}
		}
		c.putUser(t, 1, user, ms)
	}
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// cacheBytesPerMembership measures the live heap n cached memberships take.
func cacheBytesPerMembership(n, perUser int) float64 {
	before := liveHeap()
	c := newNearCache(time.Hour, 4*n)
	c.establish(1)
	fillCache(c, n, perUser)
	after := liveHeap()
	runtime.KeepAlive(c)
	return float64(after-before) / float64(n)
}

// TestCacheIsCompact holds the cache to the target of 1,000,000 memberships in at
// most 100 MB, measured on a smaller fill.
func TestCacheIsCompact(t *testing.T) {
	for _, perUser := range []int{1, 4} {
		per := cacheBytesPerMembership(200_000, perUser)
		t.Logf("%d membership(s) per user: %.1f bytes of live heap per cached membership", perUser, per)
		if per > 100 {
			t.Errorf("%d per user: %.1f bytes per membership, want at most 100", perUser, per)
		}
	}
}

// BenchmarkCacheMemory fills the cache with 1,000,000 memberships and reports the
// live heap per membership (bytes per membership = MB per million).
func BenchmarkCacheMemory(b *testing.B) {
	for _, perUser := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("per_user=%d", perUser), func(b *testing.B) {
			var per float64
			for b.Loop() {
				per = cacheBytesPerMembership(1_000_000, perUser)
			}
			b.ReportMetric(per, "B/membership")
		})
	}
}
