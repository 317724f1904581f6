//go:build soak

package soak

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/authz"
)

// Phases of TestRedisKilled.
const (
	killWarm   = 10 * time.Second // load before the membership change
	killSettle = 3 * time.Second  // load between the change and the kill
	killOutage = 5 * time.Second  // Redis down
	killAfter  = 10 * time.Second // load after recovery
)

// TestRedisKilled kills Redis (kill -9) under load and restarts it on its
// append-only file. Two replicas share the Redis: the membership change goes through
// A, the load goes to B.
//
// The oracle: D0 is the data before the change, D1 the data Redis holds after it
// (exported), each decided by the policy in this process. An allow is granted by the
// data when D1 grants the request, or when D0 does and the request was sent less than
// max_staleness after the change was acknowledged: a fact read before the change may
// be served that long at most (docs/redis.md). Every other allow is a violation, at any
// time, before, during or after the outage; requests neither grants are never allowed.
// Allows of D0-only requests inside that window are counted too: with invalidations
// arriving, there should be none.
//
// During the outage, decisions whose facts B cached before the kill and that are
// still younger than max_staleness must keep flowing: of the requests D1 grants, at
// least half must be allowed. Recovery is the time from Redis answering again until a
// decision on facts no one cached (a probe user's) is allowed and /readyz is 200.
func TestRedisKilled(t *testing.T) {
	w := newWorld(t)
	redis := startRedis(t, w, true)
	a := startService(t, serveOptions{redisURL: redis.URL()})
	b := startService(t, serveOptions{redisURL: redis.URL()})
	it := begin(t, fmt.Sprintf("%d/s", *rate), fmt.Sprintf("kill -9 Redis for %s, restart", killOutage))
	d0 := oracle(t, w.data, w.mix)

	start := time.Now()
	load := startLoad(b.URL, w.bodies, *rate, time.Hour)
	defer load.stop()
	time.Sleep(killWarm)
	acked := change(t, a)
	d1 := oracle(t, export(t, redis.URL()), w.mix)
	time.Sleep(killSettle)

	killed := time.Now()
	redis.Kill()
	time.Sleep(killOutage)
	redis.Restart()
	restarted := time.Now()
	recovery, ok := waitFor(30*time.Second, func() bool { return recovered(t, b, w) })
	time.Sleep(killAfter)
	load.stop()
	hits := load.wait()

	it.figure(t, "%d decisions in %s", len(hits), time.Since(start).Round(time.Second))
	it.check(t, errorCount(hits) == 0, "%d errors%s", errorCount(hits), firstError(hits))
	judgeKill(t, it, hits, d0, d1, acked, killed, restarted)
	it.check(t, ok, "recovered %s after Redis answered again", recovery.Round(time.Millisecond))
}

// judgeKill checks the answers against the oracle and reports the outage's figures.
func judgeKill(t *testing.T, it *item, hits []hit, d0, d1 []bool, acked, killed, restarted time.Time) {
	t.Helper()
	violations, lateOld := 0, 0
	for _, h := range hits {
		switch {
		case !h.allow || d1[h.index]:
		case d0[h.index] && h.at.Before(acked.Add(maxStaleness)):
			if h.at.After(acked) {
				lateOld++
			}
		default:
			violations++
		}
	}
	it.check(t, violations == 0, "%d allows not granted by the data", violations)
	it.figure(t, "%d allows on pre-change facts after the change", lateOld)

	granted, served, unavailable := 0, 0, 0
	for _, h := range between(hits, killed, restarted) {
		if d1[h.index] {
			granted++
			if h.allow {
				served++
			}
		}
		if h.code == authz.CodeMembershipUnavailable {
			unavailable++
		}
	}
	it.check(t, granted > 0 && 2*served >= granted,
		"Redis down: %d of %d granted requests allowed from cached facts, %d membership_unavailable",
		served, granted, unavailable)
}

// change makes membership changes through a, as each generated workspace's admin:
// block a member, change a role, remove a member, unblock a blocked member. It
// returns when the last was acknowledged.
func change(t *testing.T, a *service) time.Time {
	t.Helper()
	for i := range soakWorkspaces {
		ws := fmt.Sprintf("dw-s%02d", i)
		auth := a.bearer(t, admin(ws))
		path := a.URL + "/v1/workspaces/" + ws + "/members/"
		for _, c := range []struct{ method, url, body string }{
			{http.MethodPost, path + member(ws, 0).User + "/block", ""},
			{http.MethodPut, path + member(ws, 1).User + "/role", `{"role":"developer"}`},
			{http.MethodDelete, path + member(ws, 2).User, ""},
			{http.MethodPost, path + member(ws, 9).User + "/unblock", ""},
		} {
			if status, body := do(t, c.method, c.url, c.body, auth); status != http.StatusOK {
				t.Fatalf("%s %s: %d %s", c.method, c.url, status, body)
			}
		}
	}
	return time.Now()
}

// recovered reports whether s is ready and allows the next unused probe, which needs
// Redis: each names a user no one asked about.
func recovered(t *testing.T, s *service, w *world) bool {
	t.Helper()
	if status, _ := get(t, s.URL+"/readyz"); status != http.StatusOK {
		return false
	}
	if len(w.probes) == 0 {
		t.Fatal("out of probes")
	}
	body, _ := json.Marshal(w.probes[0])
	w.probes = w.probes[1:]
	status, out := do(t, http.MethodPost, s.URL+"/v1/decisions", string(body), "")
	return status == http.StatusOK && strings.Contains(out, `"allow":true`)
}
