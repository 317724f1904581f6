package main

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// openResult is one open-loop run: requests sent at a fixed rate, whatever the
// server's answers, so that a slow answer delays none of the following requests.
type openResult struct {
	Sent     int
	P50, P99 time.Duration
	// TimedOut counts requests unanswered within the client's timeout: a server that
	// cannot keep up with the rate, which the latencies show too.
	TimedOut int
	// Failed counts other errors and statuses other than 200, with the first one.
	Failed    int
	FirstFail string
}

// check reports a run with failed requests; requests that timed out are a
// measurement, not a failure.
func (r openResult) check() error {
	if r.Sent == 0 {
		return fmt.Errorf("open loop sent no request")
	}
	if r.Failed > 0 {
		return fmt.Errorf("open loop: %d of %d requests failed, first: %s", r.Failed, r.Sent, r.FirstFail)
	}
	return nil
}

// timedOut reports whether a result is a request the client gave up waiting for.
func timedOut(r *vegeta.Result) bool {
	return r.Code == 0 && (strings.Contains(r.Error, "Timeout exceeded") ||
		strings.Contains(r.Error, "deadline exceeded"))
}

// runOpenLoop sends the bodies in turn to url at rate requests per second for d, with
// vegeta as a library, and returns the exact latency percentiles.
func runOpenLoop(url string, bodies [][]byte, rate float64, d time.Duration) (openResult, error) {
	attacker := vegeta.NewAttacker(
		vegeta.Workers(16), vegeta.MaxWorkers(1024), vegeta.KeepAlive(true),
		vegeta.Timeout(5*time.Second), vegeta.Redirects(vegeta.NoFollow),
	)
	pacer := vegeta.ConstantPacer{Freq: int(rate + 0.5), Per: time.Second}
	var res openResult
	var latencies []time.Duration
	for r := range attacker.Attack(cycle(url, bodies), pacer, d, "bench") {
		res.Sent++
		latencies = append(latencies, r.Latency)
		switch {
		case timedOut(r):
			res.TimedOut++
		case r.Error != "" || r.Code != http.StatusOK:
			if res.Failed == 0 {
				res.FirstFail = fmt.Sprintf("%d %s", r.Code, r.Error)
			}
			res.Failed++
		}
	}
	slices.Sort(latencies)
	res.P50, res.P99 = percentile(latencies, 50), percentile(latencies, 99)
	return res, res.check()
}

// cycle is a targeter that posts the bodies in turn, from any number of workers.
func cycle(url string, bodies [][]byte) vegeta.Targeter {
	var next atomic.Uint64
	header := http.Header{"Content-Type": {"application/json"}}
	return func(t *vegeta.Target) error {
		i := next.Add(1) - 1
		t.Method, t.URL, t.Header = http.MethodPost, url, header
		t.Body = bodies[i%uint64(len(bodies))]
		return nil
	}
}

// percentile returns the p-th percentile (nearest rank) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}
