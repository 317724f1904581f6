package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/test/servetest"
)

// Counters rolegate exports that the heap measurement reads.
const (
	metricCacheHits    = "rolegate_decision_cache_hits_total"
	metricCacheEntries = "rolegate_store_cache_entries"
)

// heapResult is the near cache's live heap once every user is cached.
type heapResult struct {
	Users, Memberships int
	// Before and After are the live heap (after a collection) before and after
	// every user's memberships were read into the near cache.
	Before, After float64
	Entries       float64
}

// Growth is the live heap the near cache added.
func (r *heapResult) Growth() float64 { return r.After - r.Before }

// measureHeap starts rolegate over Redis with its profiles served (debug_addr), reads
// the live heap, warms the near cache with every user, and reads it again.
func (h *harness) measureHeap(ctx context.Context) error {
	debugAddr, err := servetest.FreeAddr()
	if err != nil {
		return err
	}
	cfg := filepath.Join(h.opts.Work, "heap.yaml")
	store := fmt.Sprintf("redis: {url: %q}\ndebug_addr: %s\n", h.redisURL, debugAddr)
	if err := os.WriteFile(cfg, []byte(rolegateConfig(h.files.PolicyBundle, store)), 0o644); err != nil {
		return err
	}
	s := &server{
		Name: "rolegate, Redis, heap", Kind: kindRolegate, Path: "/v1/decisions",
		argv: func(addr string) []string {
			return []string{h.bin.Rolegate, "serve", "--config", cfg, "--addr", addr}
		},
	}
	r, _, err := h.start(s)
	if err != nil {
		return err
	}
	defer r.stop()
	res := &heapResult{Users: len(h.ds.Users), Memberships: len(h.ds.Data.Memberships)}
	if err := h.warmEveryUser(ctx, r, "http://"+debugAddr, res); err != nil {
		return r.failure(err)
	}
	h.report.Heap = res
	h.logf("near cache: %.1f MB of live heap for %d users (%d memberships), %.0f entries",
		res.Growth()/1e6, res.Users, res.Memberships, res.Entries)
	return nil
}

func (h *harness) warmEveryUser(ctx context.Context, r *running, debugURL string, res *heapResult) error {
	bodies, err := h.warmBodies()
	if err != nil {
		return err
	}
	if res.Before, err = liveHeap(ctx, debugURL, r.URL); err != nil {
		return err
	}
	url := r.URL + "/v1/decisions"
	if _, err := sendAll(ctx, url, bodies, 2*warmWorkers); err != nil {
		return err
	}
	if err := checkUncached(ctx, url, r.URL+"/metrics", bodies[:min(100, len(bodies))]); err != nil {
		return err
	}
	if res.After, err = liveHeap(ctx, debugURL, r.URL); err != nil {
		return err
	}
	m, err := scrape(ctx, r.URL+"/metrics")
	if err != nil {
		return err
	}
	res.Entries, err = m.need(metricCacheEntries)
	return err
}

// warmBodies are one decision per user that the decision cache keeps none of: it
// reads the clock (last_upload_at against now), so only the near cache grows.
func (h *harness) warmBodies() ([][]byte, error) {
	ws := h.ds.Fixture.Workspace
	out := make([][]byte, len(h.ds.Users))
	for i, u := range h.ds.Users {
		req := authz.Request{Subject: u, Action: "developer_workspace:delete", Resource: authz.Resource{
			Workspace: ws, Attributes: map[string]any{"last_upload_at": "2025-01-01T00:00:00Z"},
		}}
		var err error
		if out[i], err = encodeRequest(&req); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkUncached sends some warming decisions again and fails if the decision cache
// answered any: the heap growth would then not be the near cache's alone.
func checkUncached(ctx context.Context, url, metricsURL string, bodies [][]byte) error {
	before, err := scrape(ctx, metricsURL)
	if err != nil {
		return err
	}
	if _, err := sendAll(ctx, url, bodies, 1); err != nil {
		return err
	}
	after, err := scrape(ctx, metricsURL)
	if err != nil {
		return err
	}
	if hits := after[metricCacheHits] - before[metricCacheHits]; hits != 0 {
		return fmt.Errorf("the decision cache answered %.0f warming decisions; "+
			"the heap figure would include it", hits)
	}
	return nil
}

// liveHeap collects garbage in the server (a heap profile asked with gc=1), then
// reads its heap in use: the live heap, give or take the scrape's own allocations.
func liveHeap(ctx context.Context, debugURL, apiURL string) (float64, error) {
	if _, err := get(ctx, debugURL+"/debug/pprof/heap?gc=1"); err != nil {
		return 0, err
	}
	m, err := scrape(ctx, apiURL+"/metrics")
	if err != nil {
		return 0, err
	}
	return m.need(metricHeapAlloc)
}
