//go:build soak

package soak

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/rolegate/rolegate/test/servetest"
)

// idleConns is how many idle connections the load keeps open to the service.
const idleConns = 32

// hit is one decision the load sent and what came back.
type hit struct {
	at      time.Time // when it was sent
	latency time.Duration
	status  int
	err     string // transport error or non-2xx status
	index   int    // the request's index in the mix
	allow   bool
	code    string // the first reason's code
	policy  string // the policy revision that decided
}

// ok reports whether the decision came back at all: a 200 with a decision.
func (h hit) ok() bool { return h.err == "" && h.status == http.StatusOK }

// run is a load in progress.
type run struct {
	attacker *vegeta.Attacker
	done     chan []hit
}

// startLoad sends POST /v1/decisions with the mix's bodies in turn to base, at a fixed
// rate for d, open loop: a slow answer does not slow the next request, and vegeta
// adds workers as needed. wait returns every answer.
func startLoad(base string, mix [][]byte, perSecond int, d time.Duration) *run {
	return startMixedLoad(base, cycle(mix), perSecond, d)
}

// mixer returns the n-th request of a load: its body and its index in the mix, or
// -1 for a request outside it.
type mixer func(n uint64) (index int, body []byte)

// cycle is the mixer that sends the mix in turn.
func cycle(mix [][]byte) mixer {
	return func(n uint64) (int, []byte) {
		i := int(n % uint64(len(mix)))
		return i, mix[i]
	}
}

// startMixedLoad is startLoad with the requests next returns.
func startMixedLoad(base string, next mixer, perSecond int, d time.Duration) *run {
	var count atomic.Uint64
	targeter := func(tgt *vegeta.Target) error {
		i, body := next(count.Add(1) - 1)
		tgt.Method = http.MethodPost
		tgt.URL = base + "/v1/decisions?case=" + strconv.Itoa(i)
		tgt.Body = body
		tgt.Header = http.Header{"Content-Type": []string{"application/json"}}
		return nil
	}
	r := &run{
		attacker: vegeta.NewAttacker(vegeta.Timeout(15*time.Second), vegeta.Workers(16),
			vegeta.MaxWorkers(4096), vegeta.KeepAlive(true), vegeta.Connections(idleConns)),
		done: make(chan []hit, 1),
	}
	results := r.attacker.Attack(targeter, vegeta.Rate{Freq: perSecond, Per: time.Second}, d, "soak")
	go func() {
		var hits []hit
		for res := range results {
			hits = append(hits, decode(res))
		}
		r.done <- hits
	}()
	return r
}

// stop ends the load early.
func (r *run) stop() { r.attacker.Stop() }

// wait returns every answer once the load has ended, in the order they were sent.
func (r *run) wait() []hit {
	hits := <-r.done
	slices.SortFunc(hits, func(a, b hit) int { return a.at.Compare(b.at) })
	return hits
}

func decode(res *vegeta.Result) hit {
	h := hit{at: res.Timestamp, latency: res.Latency, status: int(res.Code), err: res.Error}
	_, idx, _ := strings.Cut(res.URL, "case=")
	h.index, _ = strconv.Atoi(idx)
	var d servetest.Decision
	if h.ok() {
		if err := json.Unmarshal(res.Body, &d); err != nil {
			h.err = "undecodable answer: " + err.Error()
			return h
		}
		h.allow, h.policy = d.Allow, d.Revision.Policy
		if len(d.Reasons) > 0 {
			h.code = d.Reasons[0].Code
		}
	}
	return h
}

// between returns the hits sent in [from, to).
func between(hits []hit, from, to time.Time) []hit {
	var out []hit
	for _, h := range hits {
		if !h.at.Before(from) && h.at.Before(to) {
			out = append(out, h)
		}
	}
	return out
}

// errors counts the hits that did not come back as a 200 with a decision.
func errorCount(hits []hit) int { return count(hits, func(h hit) bool { return !h.ok() }) }

// firstError returns the first failed hit's error, for messages.
func firstError(hits []hit) string {
	for _, h := range hits {
		if !h.ok() {
			return fmt.Sprintf(" (first: %d %s)", h.status, h.err)
		}
	}
	return ""
}

// quantile returns the q quantile (0 < q ≤ 1) of the hits' latencies, by nearest rank.
func quantile(hits []hit, q float64) time.Duration {
	if len(hits) == 0 {
		return 0
	}
	l := make([]time.Duration, len(hits))
	for i, h := range hits {
		l[i] = h.latency
	}
	slices.Sort(l)
	return l[max(0, int(math.Ceil(q*float64(len(l))))-1)]
}

// ms formats a duration in milliseconds with one decimal.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}
