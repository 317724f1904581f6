//go:build soak

package soak

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/test/redistest"
)

// Phases of TestRedisSlow, and what a decision may take beyond lookup_timeout.
const (
	slowWarm   = 5 * time.Second
	slowFault  = 10 * time.Second
	slowHeal   = 5 * time.Second
	slowMargin = 100 * time.Millisecond
)

// TestRedisSlow puts a TCP proxy between rolegate and Redis and makes each round
// trip 200 ms and 1 s slower, then drops everything (a black hole), then stops Redis
// itself (SIGSTOP), with a healthy spell after each. One request in four names a user, and one in eight a workspace,
// that no one asked about before, so its facts are never cached: it needs Redis.
//
// During each fault: decision p99 stays under lookup_timeout plus slowMargin; no
// request the data denies is allowed, and every request the data allows is allowed
// (from cached facts) or denied membership_unavailable, never for another reason;
// goroutines are reported before, at most during, and after: during, at most two more
// for each request and each read of Redis in flight (goroutineSlack), and after,
// back down to what the load's idle connections add.
func TestRedisSlow(t *testing.T) {
	w := newWorld(t)
	srv := startRedis(t, w, false)
	proxy := redistest.StartProxy(t, srv.Addr)
	svc := startService(t, serveOptions{redisURL: proxy.URL()})
	it := begin(t, fmt.Sprintf("%d/s, 1 in 4 uncached", *rate),
		"proxy: +200 ms, +1 s per round trip, black hole; SIGSTOP")
	want := oracle(t, w.data, w.mix)

	heal := func() { proxy.SetDelay(0) }
	faults := []struct {
		name    string
		on, off func()
	}{
		{"+200 ms", func() { proxy.SetDelay(100 * time.Millisecond) }, heal},
		{"+1 s", func() { proxy.SetDelay(500 * time.Millisecond) }, heal},
		{"black hole", func() { proxy.Blackhole(true) }, func() { proxy.Blackhole(false) }},
		{"SIGSTOP", srv.Pause, srv.Resume},
	}
	total := slowWarm + time.Duration(len(faults))*(slowFault+slowHeal)
	load := startMixedLoad(svc.URL, coldMix(t, w), *rate, total)
	time.Sleep(slowWarm)
	type phase struct {
		from, to            time.Time
		before, peak, after int
	}
	phases := make([]phase, len(faults))
	for i, f := range faults {
		p := &phases[i]
		p.before, p.from = goroutines(t, svc.URL), time.Now()
		f.on()
		p.peak = peakGoroutines(t, svc.URL, slowFault)
		f.off()
		p.to = time.Now()
		time.Sleep(slowHeal)
		p.after = goroutines(t, svc.URL)
	}
	hits := load.wait()

	it.check(t, errorCount(hits) == 0, "%d errors%s", errorCount(hits), firstError(hits))
	for i, f := range faults {
		p := phases[i]
		during := between(hits, p.from, p.to)
		p99 := quantile(during, 0.99)
		it.check(t, p99 <= lookupTimeout+slowMargin, "%s: p99 %s (max %s), %d of %d membership_unavailable",
			f.name, ms(p99), ms(quantile(during, 1)), count(during, unavailable), len(during))
		wrong := count(during, func(h hit) bool { return wrongUnderFault(h, want) })
		it.check(t, wrong == 0, "%s: %d answers neither the data's nor membership_unavailable", f.name, wrong)
		it.check(t, p.peak <= p.before+goroutineSlack() && p.after <= p.before+idleConns,
			"%s: goroutines %d before, %d at most during, %d after", f.name, p.before, p.peak, p.after)
	}
}

// Reads of Redis go on after the decision that started them gave up, for up to
// dial_timeout + read_timeout (the defaults, 1 s each), so that a slow Redis still
// fills the cache; 3 requests in 8 of the cold mix start one.
const (
	fetchTimeout = 2 * time.Second
	coldShare    = 3.0 / 8
)

// goroutineSlack is how many more goroutines a fault may cost: two for each request
// in flight when every request takes lookup_timeout plus the margin, two for each
// read of Redis in flight when every read takes fetchTimeout, and the connections the
// load may keep open.
func goroutineSlack() int {
	requests := float64(*rate) * (lookupTimeout + slowMargin).Seconds()
	reads := float64(*rate) * coldShare * fetchTimeout.Seconds()
	return 2*int(requests) + 2*int(reads) + idleConns
}

// wrongUnderFault reports whether the answer is one a fault may not cause: an allow
// the data does not give, or a denial of what it allows for a reason other than
// membership_unavailable.
func wrongUnderFault(h hit, want []bool) bool {
	granted := h.index >= 0 && want[h.index]
	if h.allow {
		return !granted
	}
	return granted && h.code != authz.CodeMembershipUnavailable
}

func unavailable(h hit) bool { return h.code == authz.CodeMembershipUnavailable }

func count(hits []hit, pred func(hit) bool) int {
	n := 0
	for _, h := range hits {
		if pred(h) {
			n++
		}
	}
	return n
}

// peakGoroutines samples the service's goroutines every 500 ms for d and returns the
// most it saw.
func peakGoroutines(t *testing.T, base string, d time.Duration) int {
	t.Helper()
	peak := 0
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		peak = max(peak, goroutines(t, base))
	}
	return peak
}

// coldMix sends the mix, with every fourth request replaced by one of a user no one
// asked about, and every eighth also in a workspace that does not exist: the data
// denies both, and neither is ever cached when it is sent.
func coldMix(t *testing.T, w *world) mixer {
	t.Helper()
	warm := cycle(w.bodies)
	return func(n uint64) (int, []byte) {
		if n%4 != 3 {
			return warm(n - n/4)
		}
		req := authz.Request{
			Subject: fmt.Sprintf("u-cold-%d", n), Action: "miniprogram:view",
			Resource: authz.Resource{Workspace: "dw-s00", ID: program("dw-s00", 0)},
		}
		if n%8 == 7 {
			req.Resource.Workspace = fmt.Sprintf("dw-cold-%d", n)
		}
		body, err := json.Marshal(req)
		if err != nil {
			panic(err)
		}
		return -1, body
	}
}
