package replay_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/decisionlog"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/test/domain"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// start is when the first logged decision was made.
var start = time.Date(2025, 1, 15, 9, 30, 0, 0, time.UTC)

// stepClock returns a clock that starts at t and moves a millisecond each reading.
func stepClock(t time.Time) func() time.Time {
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

// stableIDs logs decisions with the ids d-0001, d-0002, ... instead of random ones,
// so that reports can be compared with golden files.
type stableIDs struct {
	log *decisionlog.Logger
	n   int
}

func (s *stableIDs) Record(ctx context.Context, req *authz.Request, d *authz.Decision) {
	s.n++
	c := *d
	c.ID = fmt.Sprintf("d-%04d", s.n)
	s.log.Record(ctx, req, &c)
}

// builtIn compiles the policy rolegate ships.
func builtIn(t testing.TB) *engine.Policy { return load(t, "") }

// decide decides the requests through authz.Service with the built-in policy, the
// domain's world and the clock, and returns the decision log.
func decide(t testing.TB, store membership.Reader, clock func() time.Time, requests []authz.Request) string {
	t.Helper()
	var buf bytes.Buffer
	ids := &stableIDs{log: decisionlog.New(&buf)}
	svc := authz.NewService(engine.New(builtIn(t)), store, authz.WithRecorder(ids), authz.WithClock(clock))
	for i := range requests {
		svc.Decide(context.Background(), &requests[i])
	}
	return buf.String()
}

var domainLogOnce struct {
	sync.Once
	log string
}

// domainLog returns the decision log of every case of test/domain, decided once per
// test run with the built-in policy, a millisecond apart from start.
func domainLog(t testing.TB) string {
	t.Helper()
	domainLogOnce.Do(func() {
		cases, err := domain.Cases()
		if err != nil {
			t.Fatal(err)
		}
		requests := make([]authz.Request, len(cases))
		for i, c := range cases {
			requests[i] = c.Request
		}
		domainLogOnce.log = decide(t, memory.New(domain.World()), stepClock(start), requests)
	})
	if domainLogOnce.log == "" {
		t.Fatal("the domain cases could not be decided")
	}
	return domainLogOnce.log
}

// edit replaces old, which must occur exactly once, with new in the policy file path.
type edit struct{ path, old, new string }

// candidateBundle writes the built-in policy with the edits as a bundle file and
// returns its path.
func candidateBundle(t *testing.T, edits ...edit) string {
	t.Helper()
	fsys := bundletest.Files(t, nil)
	for _, e := range edits {
		src := string(fsys[e.path].Data)
		if n := strings.Count(src, e.old); n != 1 {
			t.Fatalf("%s holds %q %d times, want once", e.path, e.old, n)
		}
		fsys[e.path].Data = []byte(strings.Replace(src, e.old, e.new, 1))
	}
	b, err := policy.FromFS(fsys, "candidate")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "candidate.tar.gz")
	if err := bundle.WriteFile(path, b); err != nil {
		t.Fatal(err)
	}
	return path
}

// load compiles the policy at path, a directory or bundle file; "" is the built-in
// policy.
func load(t testing.TB, path string) *engine.Policy {
	t.Helper()
	b, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.Compile(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// golden compares got with testdata/<name>.golden, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Fatalf("output differs from %s (-want +got):\n%s", path, diff)
	}
}
