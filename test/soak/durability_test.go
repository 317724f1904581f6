//go:build soak

package soak

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// durableWrites is how many acknowledged writes TestAcknowledgedWritesSurviveKill9
// waits for before it kills Redis; the writes in flight then add a few more.
const durableWrites = 10000

// TestAcknowledgedWritesSurviveKill9 writes memberships through rolegate's membership
// API (one invitation per write, a writer per generated workspace, at once) to a Redis
// with appendfsync always, kills Redis with SIGKILL once durableWrites were
// acknowledged, restarts it on the same append-only file and counts the acknowledged
// invitations that are gone: there must be none.
func TestAcknowledgedWritesSurviveKill9(t *testing.T) {
	w := newWorld(t)
	redis := startRedis(t, w, true)
	svc := startService(t, serveOptions{redisURL: redis.URL()})
	it := begin(t, fmt.Sprintf("%d writers", soakWorkspaces), "kill -9 Redis (appendfsync always), restart")

	acked := make(chan [2]string, 4*durableWrites) // workspace, user
	var killed sync.Once
	var down atomic.Bool
	var early atomic.Int64 // writes failed before the kill
	var wg sync.WaitGroup
	start := time.Now()
	var took time.Duration
	kill := func() {
		killed.Do(func() { took = time.Since(start); down.Store(true); redis.Kill() })
	}
	for i := range soakWorkspaces {
		ws := fmt.Sprintf("dw-s%02d", i)
		auth := svc.bearer(t, admin(ws))
		wg.Go(func() {
			if invite(svc, ws, auth, acked) && !down.Load() {
				early.Add(1)
			}
		})
	}
	var writes [][2]string
	go func() { wg.Wait(); close(acked) }()
	for a := range acked {
		if writes = append(writes, a); len(writes) == durableWrites {
			go kill()
		}
	}
	kill() // in case the writers stopped early

	redis.Restart()
	missing := missingMembers(t, redis.URL(), writes)
	it.figure(t, "%d writes acknowledged, %.0f/s before the kill", len(writes),
		float64(durableWrites)/took.Seconds())
	it.check(t, early.Load() == 0, "%d writers failed before the kill", early.Load())
	it.check(t, missing == 0, "%d acknowledged writes missing after the restart", missing)
}

// invite invites new users to ws one after the other and sends each acknowledged one
// on acked, until a write fails; it then returns true.
func invite(svc *service, ws, auth string, acked chan<- [2]string) bool {
	for i := 0; ; i++ {
		user := fmt.Sprintf("u-%s-inv%05d", ws[3:], i)
		status, _, err := send(http.MethodPost, svc.URL+"/v1/workspaces/"+ws+"/invitations",
			`{"user":"`+user+`","role":"developer"}`, auth)
		if err != nil || status != http.StatusCreated {
			return true
		}
		acked <- [2]string{ws, user}
	}
}

// missingMembers counts the writes whose membership Redis does not hold.
func missingMembers(t *testing.T, url string, writes [][2]string) int {
	t.Helper()
	held := make(map[[2]string]bool)
	for _, m := range export(t, url).Memberships {
		held[[2]string{m.Workspace, m.User}] = true
	}
	missing := 0
	for _, w := range writes {
		if !held[w] {
			missing++
		}
	}
	return missing
}
