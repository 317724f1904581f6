package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/policies"
)

func developerInput(mps ...string) *engine.Input {
	return &engine.Input{
		Subject:  "u-dev",
		Action:   "miniprogram:update",
		Resource: engine.Resource{Workspace: "dw-shop", ID: "mp-1"},
		Facts: engine.Facts{
			Workspace: &membership.Workspace{ID: "dw-shop", Type: "developer", Tenant: "tw-alpha"},
			Memberships: []membership.Membership{{
				User: "u-dev", Workspace: "dw-shop", Role: "developer",
				Status: membership.StatusActive, MiniPrograms: mps,
			}},
		},
	}
}

func TestCacheAnswersTheSameInputAgain(t *testing.T) {
	p, err := compile(t, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.Decide(context.Background(), developerInput("mp-1"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.Decide(context.Background(), developerInput("mp-1"))
	if err != nil {
		t.Fatal(err)
	}
	if s := p.CacheStats(); s.Hits != 1 || s.Misses != 1 {
		t.Fatalf("cache stats %+v, want one miss then one hit", s)
	}
	if !first.Allow || !second.Allow || second.Reasons[0] != first.Reasons[0] {
		t.Fatalf("first %+v, second %+v", first, second)
	}
}

// TestEvaluateLeavesTheCacheAlone: the matrix's probes neither read nor fill the
// cache, so they neither push real decisions out nor count in its statistics.
func TestEvaluateLeavesTheCacheAlone(t *testing.T) {
	p, err := compile(t, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		d, err := p.Evaluate(context.Background(), developerInput("mp-1"))
		if err != nil || !d.Allow {
			t.Fatalf("evaluate: %+v, %v", d, err)
		}
	}
	if _, err := p.Decide(context.Background(), developerInput("mp-1")); err != nil {
		t.Fatal(err)
	}
	if s := p.CacheStats(); s.Hits != 0 || s.Misses != 1 {
		t.Fatalf("cache stats %+v, want the one decision's miss only", s)
	}
}

// TestCacheFollowsTheFacts: the facts are part of the key, so a membership change is
// answered anew at once.
func TestCacheFollowsTheFacts(t *testing.T) {
	p, err := compile(t, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, tc := range []struct {
		mps  []string
		want bool
	}{{[]string{"mp-1"}, true}, {nil, false}, {[]string{"mp-1"}, true}, {[]string{"mp-2"}, false}} {
		d, err := p.Decide(ctx, developerInput(tc.mps...))
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow != tc.want {
			t.Fatalf("step %d with %v: allow = %v, want %v", i, tc.mps, d.Allow, tc.want)
		}
	}

	in := developerInput("mp-1")
	in.Facts.Memberships[0].Status = membership.StatusBlocked
	if d, _ := p.Decide(ctx, in); d.Allow {
		t.Fatal("a blocked member was allowed from the cache")
	}
}

// TestCacheNeverKeepsClockDependentAnswers: deleting a developer workspace depends on
// the time of the last upload; the same input must be answered for the time asked.
func TestCacheNeverKeepsClockDependentAnswers(t *testing.T) {
	p, err := compile(t, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	upload := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	in := &engine.Input{
		Subject: "u-ann",
		Action:  "developer_workspace:delete",
		Resource: engine.Resource{Workspace: "dw-shop", Attributes: map[string]any{
			"published_miniprograms": 0.0, "last_upload_at": upload.Format(time.RFC3339),
		}},
		Facts: engine.Facts{
			Workspace: &membership.Workspace{ID: "dw-shop", Type: "developer", Tenant: "tw-alpha"},
			Memberships: []membership.Membership{{
				User: "u-ann", Workspace: "tw-alpha", Role: "workspace_admin", Status: membership.StatusActive,
			}},
		},
	}
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{{upload.AddDate(0, 0, 10), false}, {upload.AddDate(0, 0, 31), true}, {upload.AddDate(0, 0, 10), false}} {
		in.Time = tc.now
		d, err := p.Decide(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allow != tc.want {
			t.Fatalf("at %s: allow = %v, want %v (%v)", tc.now.Format(time.DateOnly), d.Allow, tc.want, d.Reasons)
		}
	}
	if s := p.CacheStats(); s.Hits != 0 {
		t.Fatalf("a clock-dependent decision came from the cache: %+v", s)
	}
}

// TestCacheKeyIsUnambiguous: inputs that would run together if concatenated differ.
func TestCacheKeyIsUnambiguous(t *testing.T) {
	p, err := compile(t, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := developerInput("mp-1")
	a.Subject, a.Action = "u-devminiprogram:upd", "ate"
	b := developerInput("mp-1")
	if _, err := p.Decide(ctx, a); err != nil {
		t.Fatal(err)
	}
	d, err := p.Decide(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Allow || p.CacheStats().Hits != 0 {
		t.Fatalf("decision %+v, stats %+v: the two inputs shared a key", d, p.CacheStats())
	}

	typed := developerInput("mp-1")
	typed.Resource.Attributes = map[string]any{"approved": "true"}
	boolean := developerInput("mp-1")
	boolean.Resource.Attributes = map[string]any{"approved": true}
	_, _ = p.Decide(ctx, typed)
	_, _ = p.Decide(ctx, boolean)
	if p.CacheStats().Hits != 0 {
		t.Fatal(`"true" and true shared a key`)
	}
}

func TestCacheOffDecidesTheSame(t *testing.T) {
	b := loadFS(t, policies.FS)
	p, err := engine.Compile(context.Background(), b, engine.WithDecisionCache(0))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if d, err := p.Decide(context.Background(), developerInput("mp-1")); err != nil || !d.Allow {
			t.Fatalf("decision %+v, %v", d, err)
		}
	}
	if s := p.CacheStats(); s != (engine.CacheStats{}) {
		t.Fatalf("stats %+v without a cache", s)
	}
}

func TestCacheUnderConcurrency(t *testing.T) {
	p, err := compile(t, policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				mps := []string{"mp-1"}
				if (g+i)%3 == 0 {
					mps = []string{"mp-2"}
				}
				d, err := p.Decide(context.Background(), developerInput(mps...))
				if err != nil || d.Allow != (mps[0] == "mp-1") {
					t.Errorf("decision %+v, %v for %v", d, err, mps)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkCachedDecide measures a decision the cache answers, for a subject with ten
// memberships (five with two mini programs), as the benchmark's data set has: the
// key is written, hashed and looked up.
func BenchmarkCachedDecide(b *testing.B) {
	p, err := compile(b, policies.FS)
	if err != nil {
		b.Fatal(err)
	}
	in := developerInput("mp-1")
	for i := range 9 {
		m := membership.Membership{
			User: "u-dev", Workspace: fmt.Sprintf("dw-%06d", i), Role: "operator", Status: membership.StatusActive,
		}
		if i%2 == 0 {
			m.MiniPrograms = []string{fmt.Sprintf("mp-%06d-1", i), fmt.Sprintf("mp-%06d-2", i)}
		}
		in.Facts.Memberships = append(in.Facts.Memberships, m)
	}
	ctx := context.Background()
	if _, err := p.Decide(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if d, err := p.Decide(ctx, in); err != nil || !d.Allow {
			b.Fatalf("%+v, %v", d, err)
		}
	}
	if s := p.CacheStats(); s.Misses != 1 {
		b.Fatalf("cache stats %+v, want one miss", s)
	}
}
