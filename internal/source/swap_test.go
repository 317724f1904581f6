package source_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/test/domain"
)

// TestHotSwapUnderLoad alternates two revisions whose answers differ (one grants
// workspace:view, the other does not) while decisions run, and checks that every
// decision is exactly what the revision it names answers when alone.
func TestHotSwapUnderLoad(t *testing.T) {
	f := newFixture(t)
	cases := swapCases(t)
	want := map[string][]outcome{
		f.good.Manifest.Revision:  decideAlone(t, f, f.good, cases),
		f.other.Manifest.Revision: decideAlone(t, f, f.other, cases),
	}
	if cmp.Equal(want[f.good.Manifest.Revision], want[f.other.Manifest.Revision]) {
		t.Fatal("the two revisions answer alike; the test would prove nothing")
	}

	bundles := [][]byte{bundletest.Tarball(t, f.good), bundletest.Tarball(t, f.other)}
	srv := newBundleServer(t, bundles[0])
	r := newRig(t, f.urlConfig(srv.URL))
	if err := r.m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}

	const swaps, deciders = 12, 4
	var stop atomic.Bool
	seen := make([]map[string]int, deciders)
	var wg, started sync.WaitGroup
	started.Add(deciders)
	for i := range deciders {
		wg.Go(func() { seen[i] = decideUntil(t, r.svc, cases, want, &stop, started.Done) })
	}
	started.Wait()
	for i := 1; i <= swaps; i++ {
		srv.serve(bundles[i%2])
		if err := r.m.Refresh(context.Background()); err != nil {
			t.Error(err)
		}
	}
	stop.Store(true)
	wg.Wait()

	total := map[string]int{}
	for _, s := range seen {
		for rev, n := range s {
			total[rev] += n
		}
	}
	t.Logf("%d activations; decisions per revision: %v", r.m.Stats().Activations, total)
	if len(total) != 2 {
		t.Fatalf("decisions saw revisions %v, want both", total)
	}
}

// swapCases are the matrix cases of workspace:view, where the revisions differ, and
// a sample of the others, where they agree.
func swapCases(t *testing.T) []*authz.Request {
	t.Helper()
	all, err := domain.Cases()
	if err != nil {
		t.Fatal(err)
	}
	var out []*authz.Request
	for i, c := range all {
		if c.Request.Action == "workspace:view" || i%97 == 0 {
			out = append(out, &c.Request)
		}
	}
	return out
}

// decideAlone returns the outcomes of the cases under b, active on its own.
func decideAlone(t *testing.T, f *fixture, b *opabundle.Bundle, cases []*authz.Request) []outcome {
	t.Helper()
	r, _ := servedRig(t, f, b)
	out := make([]outcome, len(cases))
	for i, req := range cases {
		d := r.svc.Decide(context.Background(), req)
		out[i] = outcome{Allow: d.Allow, Reasons: d.Reasons, Revision: d.PolicyRevision}
	}
	return out
}

// decideUntil decides the cases round and round until stop, checking each decision
// against its revision's answer, and returns how many decisions each revision made.
// It calls started after its first decision.
func decideUntil(t *testing.T, svc *authz.Service, cases []*authz.Request, want map[string][]outcome,
	stop *atomic.Bool, started func(),
) map[string]int {
	seen := map[string]int{}
	once := sync.OnceFunc(started)
	defer once()
	for i := 0; !stop.Load() || i < len(cases); i++ {
		k := i % len(cases)
		d := svc.Decide(context.Background(), cases[k])
		once()
		got := outcome{Allow: d.Allow, Reasons: d.Reasons, Revision: d.PolicyRevision}
		expected, ok := want[d.PolicyRevision]
		if !ok || d.Err != nil {
			t.Errorf("decision %+v names no known revision", d)
			return seen
		}
		if diff := cmp.Diff(expected[k], got); diff != "" {
			t.Errorf("%s: decision is not what revision %s answers:\n%s", caseName(cases[k]), d.PolicyRevision, diff)
			return seen
		}
		seen[d.PolicyRevision]++
	}
	return seen
}

func caseName(r *authz.Request) string {
	return fmt.Sprintf("%s %s in %s", r.Subject, r.Action, r.Resource.Workspace)
}
