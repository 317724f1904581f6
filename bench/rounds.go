package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/rolegate/rolegate/test/servetest"
)

// closedSample is one closed-loop round of one configuration.
type closedSample struct {
	Rate float64
	// Allocs and Bytes are the server's allocations per decision over the round.
	Allocs, Bytes float64
	// CPU is the server's CPU time per decision over the round: it moves less than
	// the rate when other programs share the machine.
	CPU time.Duration
	RSS int64
	Wrk wrkResult
}

// openSample is one open-loop round of one configuration.
type openSample struct {
	openResult
}

// running is a started server.
type running struct {
	*process
	URL string
}

// coldStartTimeout bounds the wait for a server's first decision; OPA loading a
// million memberships takes a while.
const coldStartTimeout = 5 * time.Minute

// start runs the configuration on the server core and waits for its first decision;
// it returns the time from exec to that decision, the cold start.
func (h *harness) start(s *server) (*running, time.Duration, error) {
	addr, err := servetest.FreeAddr()
	if err != nil {
		return nil, 0, err
	}
	p, err := launch(s.Name, h.opts.ServerCPU, s.argv(addr), h.opts.Root)
	if err != nil {
		return nil, 0, err
	}
	r := &running{process: p, URL: "http://" + addr}
	cold, err := p.firstDecision(r.URL+s.Path, h.bodies(s)[0], coldStartTimeout)
	if err != nil {
		p.stop()
		return nil, 0, err
	}
	return r, cold, nil
}

// startMeasured starts the configuration for a round and records its cold start.
func (h *harness) startMeasured(s *server) (*running, error) {
	r, cold, err := h.start(s)
	if err == nil {
		s.Cold = append(s.Cold, cold)
	}
	return r, err
}

// closedRound starts the configuration, sends the mix once (warming caches and
// connections alike for every server), and runs wrk; allocations come from the
// server's runtime counters before and after the run.
func (h *harness) closedRound(ctx context.Context, s *server) error {
	r, err := h.startMeasured(s)
	if err != nil {
		return err
	}
	defer r.stop()
	if _, err := sendAll(ctx, r.URL+s.Path, h.bodies(s), warmWorkers); err != nil {
		return r.failure(err)
	}
	before, cpuBefore, err := r.counters(ctx)
	if err != nil {
		return r.failure(err)
	}
	w, err := runWrk(ctx, h.wrkLoad(s, r.URL+s.Path))
	if err != nil {
		return r.failure(err)
	}
	after, cpuAfter, err := r.counters(ctx)
	if err != nil {
		return r.failure(err)
	}
	sample := closedSample{Rate: w.rate(), Wrk: w, CPU: (cpuAfter - cpuBefore) / time.Duration(w.Requests)}
	if sample.Allocs, err = perRequest(before, after, metricMallocs, w.Requests); err != nil {
		return r.failure(err)
	}
	if sample.Bytes, err = perRequest(before, after, metricAlloc, w.Requests); err != nil {
		return r.failure(err)
	}
	if sample.RSS, err = r.rss(); err != nil {
		return err
	}
	s.Closed = append(s.Closed, sample)
	return nil
}

// counters reads the server's runtime counters and its CPU time.
func (r *running) counters(ctx context.Context) (metrics, time.Duration, error) {
	m, err := scrape(ctx, r.URL+"/metrics")
	if err != nil {
		return nil, 0, err
	}
	cpu, err := r.cpuTime()
	return m, cpu, err
}

func (h *harness) wrkLoad(s *server, url string) wrkLoad {
	bodies := h.files.RolegateBodies
	if s.OPABody {
		bodies = h.files.OPABodies
	}
	return wrkLoad{
		CPU: h.opts.LoadCPU, Connections: h.opts.Connections, Duration: h.opts.Duration,
		URL: url, Bodies: bodies, Script: h.files.Script,
	}
}

// openRound starts the configuration, sends the mix once, and runs the open loop at
// the fixed rate.
func (h *harness) openRound(ctx context.Context, s *server, rate float64) error {
	r, err := h.startMeasured(s)
	if err != nil {
		return err
	}
	defer r.stop()
	if _, err := sendAll(ctx, r.URL+s.Path, h.bodies(s), warmWorkers); err != nil {
		return r.failure(err)
	}
	o, err := runOpenLoop(r.URL+s.Path, h.bodies(s), rate, h.opts.Duration)
	if err != nil {
		return r.failure(err)
	}
	s.Open = append(s.Open, openSample{o})
	return nil
}

// client is the harness's own HTTP client, which keeps a connection per worker.
var client = &http.Client{
	Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	Timeout:   30 * time.Second,
}

// warmWorkers is how many requests of the mix are in flight while it is sent once.
const warmWorkers = 8

// sendAll posts every body to url, from a few workers, and returns the answers in
// the bodies' order; an answer other than 200 is an error.
func sendAll(ctx context.Context, url string, bodies [][]byte, workers int) ([][]byte, error) {
	answers := make([][]byte, len(bodies))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(bodies) && errs[w] == nil; i += workers {
				answers[i], errs[w] = post(ctx, url, bodies[i])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return answers, nil
}

// post sends one JSON body and returns the answer, failing on a status other than 200.
func post(ctx context.Context, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("post %s: %s: %s (request %s)", url, resp.Status, got, body)
	}
	return got, nil
}
