//go:build soak

package soak

import (
	"fmt"
	"testing"
	"time"
)

// TestSustainedLoad sends a fixed rate for the set duration to rolegate over Redis
// with the near cache on. Every request must come back a 200 with the answer the data
// gives. p99, resident memory and goroutines are reported for the first and the last
// window (10 s each at the default duration); memory and goroutines must not double.
func TestSustainedLoad(t *testing.T) {
	w := newWorld(t)
	redis := startRedis(t, w, false)
	svc := startService(t, serveOptions{redisURL: redis.URL()})
	it := begin(t, fmt.Sprintf("%d/s for %.0f s", *rate, duration.Seconds()), "none")
	want := oracle(t, w.data, w.mix)

	win := min(10*time.Second, (*duration / 3).Round(time.Second))
	start := time.Now()
	load := startLoad(svc.URL, w.bodies, *rate, *duration)
	time.Sleep(win)
	rssStart, gStart := rssMiB(t, svc.pid), goroutines(t, svc.URL)
	time.Sleep(time.Until(start.Add(*duration)))
	rssEnd, gEnd := rssMiB(t, svc.pid), goroutines(t, svc.URL)
	hits := load.wait()
	end := start.Add(*duration)

	first, last := between(hits, start, start.Add(win)), between(hits, end.Add(-win), end)
	failed, wrong := errorCount(hits), 0
	for _, h := range hits {
		if h.ok() && h.allow != want[h.index] {
			wrong++
		}
	}
	it.figure(t, "%d decisions, %.0f/s", len(hits), float64(len(hits))/duration.Seconds())
	it.check(t, failed == 0, "%d errors%s", failed, firstError(hits))
	it.check(t, wrong == 0, "%d answers not the data's", wrong)
	it.figure(t, "p99 %s first %s, %s last %s", ms(quantile(first, 0.99)), win, ms(quantile(last, 0.99)), win)
	it.check(t, rssEnd < 2*rssStart, "RSS %.1f MiB after %s, %.1f MiB at the end", rssStart, win, rssEnd)
	it.check(t, gEnd < 2*gStart+50, "goroutines %d after %s, %d at the end", gStart, win, gEnd)
}
