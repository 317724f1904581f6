package source_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/source"
)

func TestRestartFromPersistedBundle(t *testing.T) {
	f := newFixture(t)
	srv := newBundleServer(t, bundletest.Tarball(t, f.good))
	cfg := f.urlConfig(srv.URL)
	cfg.PersistDir = t.TempDir()

	first := newRig(t, cfg)
	if err := first.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := decideAll(t, first.svc)
	first.m.Stop()
	srv.Close()

	// A new process: the service is down, the persisted bundle serves.
	second := newRig(t, cfg)
	if err := second.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, decideAll(t, second.svc)); diff != "" {
		t.Fatalf("decisions after the restart differ (-before +after):\n%s", diff)
	}
	st := second.m.Status()
	wantOrigin := source.Origin{
		Kind:     source.KindPersisted,
		Location: filepath.Join(cfg.PersistDir, "bundle.tar.gz"),
	}
	if st.Policy == nil || st.Policy.Origin != wantOrigin || !st.Ready {
		t.Fatalf("status policy = %+v, ready %v; want the persisted bundle", st.Policy, st.Ready)
	}
	if st.LastError == nil || st.LastError.Stage != source.StageDownload {
		t.Fatalf("status last error = %+v, want the failed download", st.LastError)
	}
}

func TestRestartRevalidatesETag(t *testing.T) {
	f := newFixture(t)
	srv := newBundleServer(t, bundletest.Tarball(t, f.good))
	cfg := f.urlConfig(srv.URL)
	cfg.PersistDir = t.TempDir()
	if err := newRig(t, cfg).m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}

	second := newRig(t, cfg)
	if err := second.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := srv.seen()
	if last := seen[len(seen)-1]; last.IfNoneMatch != srv.etag || last.Status != http.StatusNotModified {
		t.Fatalf("request after the restart = %+v, want a 304 to If-None-Match %s", last, srv.etag)
	}
	if st := second.m.Stats(); st.Activations != 1 || st.Unchanged != 1 {
		t.Fatalf("stats = %+v, want the persisted bundle activated once, then found unchanged", st)
	}
}

func TestPersistedBundleIsVerified(t *testing.T) {
	f := newFixture(t)
	srv := newBundleServer(t, bundletest.Tarball(t, f.good))
	cfg := f.urlConfig(srv.URL)
	cfg.PersistDir = t.TempDir()
	if err := newRig(t, cfg).m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.fail(http.StatusServiceUnavailable)

	// Someone with access to the disk swaps in a bundle of their own.
	otherSign, _ := bundletest.Keys(t, "ES256")
	forged := bundletest.Tarball(t, bundletest.Sign(t, bundletest.Policy(t, nil), otherSign))
	if err := os.WriteFile(filepath.Join(cfg.PersistDir, "bundle.tar.gz"), forged, 0o600); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, cfg)
	if err := r.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := r.e.Policy(); p != nil {
		t.Fatalf("a forged persisted bundle was activated: revision %s", p.Revision())
	}
	if st := r.m.Stats(); st.Failures[source.StageVerify] != 1 {
		t.Fatalf("stats = %+v, want one verify failure", st)
	}
}

func TestPersistedAgeCounts(t *testing.T) {
	f := newFixture(t)
	srv := newBundleServer(t, bundletest.Tarball(t, f.good))
	cfg := f.urlConfig(srv.URL)
	cfg.PersistDir, cfg.MaxPolicyAge = t.TempDir(), 2*time.Hour
	if err := newRig(t, cfg).m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	// The last refresh was three hours ago.
	recordPath := filepath.Join(cfg.PersistDir, "bundle.json")
	var rec map[string]any
	readJSON(t, recordPath, &rec)
	rec["refreshed_at"] = time.Now().Add(-3 * time.Hour).Format(time.RFC3339Nano)
	writeJSON(t, recordPath, rec)

	r := newRig(t, cfg)
	if err := r.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r.e.Policy() == nil || r.m.Ready() == nil {
		t.Fatalf("policy %v, ready %v; want the restored policy active and stale", r.e.Policy(), r.m.Ready())
	}
	if d := r.svc.Decide(context.Background(), adminViews); d.Allow || d.Reasons[0].Code != "policy_stale" {
		t.Fatalf("decision = %+v, want policy_stale", d)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
