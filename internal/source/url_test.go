package source_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	opabundle "github.com/open-policy-agent/opa/v1/bundle"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/source"
	"github.com/rolegate/rolegate/test/domain"
)

var adminViews = &authz.Request{
	Subject:  domain.Member("workspace_admin", "active"),
	Action:   "workspace:view",
	Resource: authz.Resource{Workspace: domain.TenantHome},
}

func TestDownloadWithETag(t *testing.T) {
	f := newFixture(t)
	srv := newBundleServer(t, bundletest.Tarball(t, f.good))
	r := newRig(t, f.urlConfig(srv.URL+"/bundles/rolegate.tar.gz"))
	m, svc := r.m, r.svc
	ctx := context.Background()

	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	first := r.e.Policy()
	if d := svc.Decide(ctx, adminViews); !d.Allow || d.PolicyRevision != f.good.Manifest.Revision {
		t.Fatalf("decision = %+v, want allowed by revision %s", d, f.good.Manifest.Revision)
	}

	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	seen := srv.seen()
	etag := srv.etag
	want := []request{{Status: http.StatusOK}, {IfNoneMatch: etag, Status: http.StatusNotModified}}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Fatalf("requests (-want +got):\n%s", diff)
	}
	if r.e.Policy() != first {
		t.Fatal("a 304 replaced the compiled policy")
	}
	st := m.Stats()
	if st.Activations != 1 || st.Unchanged != 1 || st.Refreshes != 2 {
		t.Fatalf("stats = %+v, want 1 activation, 1 unchanged of 2 refreshes", st)
	}

	srv.serve(bundletest.Tarball(t, f.other))
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if d := svc.Decide(ctx, adminViews); d.Allow || d.PolicyRevision != f.other.Manifest.Revision {
		t.Fatalf("decision = %+v, want denied by revision %s", d, f.other.Manifest.Revision)
	}
	status := m.Status()
	if status.Policy.Revision != f.other.Manifest.Revision || status.Policy.ETag != srv.etag ||
		status.Policy.Origin.Kind != source.KindURL || !status.Ready {
		t.Fatalf("status = %+v", status)
	}
}

func TestFailuresChangeNothing(t *testing.T) {
	f := newFixture(t)
	tarball := func(b *opabundle.Bundle) []byte { return bundletest.Tarball(t, b) }
	good := tarball(f.good)
	otherSign, _ := bundletest.Keys(t, "ES256")
	broken := bundletest.Policy(t, map[string]string{
		"rolegate/broken.rego": "package rolegate.broken\n\nx := nope(1)\n",
	})
	allowAll := bundletest.Edit(t, "rolegate/authz/authz.rego", "default allow := false", "default allow := true")

	tests := []struct {
		name      string
		body      []byte // served instead of the good bundle,
		status    int    // or this status instead of a bundle,
		down      bool   // or no server at all
		wantStage source.Stage
		wantErr   string
	}{
		{name: "server down", down: true, wantStage: source.StageDownload, wantErr: "connection refused"},
		{name: "server error", status: http.StatusBadGateway, wantStage: source.StageDownload, wantErr: "502"},
		{name: "truncated archive", body: good[:len(good)/2], wantStage: source.StageParse, wantErr: "EOF"},
		{
			name: "wrong signature", body: tarball(bundletest.Sign(t, f.other, otherSign)),
			wantStage: source.StageVerify, wantErr: "failed to verify",
		},
		{
			name: "unsigned bundle", body: tarball(bundletest.Policy(t, nil)),
			wantStage: source.StageVerify, wantErr: "missing .signatures.json",
		},
		{
			name:      "extra unsigned file",
			body:      tarball(bundletest.AddModule(f.good, "/rolegate/extra.rego", "package rolegate.extra\n")),
			wantStage: source.StageVerify, wantErr: "not included in bundle signature",
		},
		{
			name: "tampered file", body: tarball(bundletest.Tamper(t, f.good, "/rolegate/authz/authz.rego", allowAll)),
			wantStage: source.StageVerify, wantErr: "digest mismatch",
		},
		{
			name: "policy that does not compile", body: tarball(bundletest.Sign(t, broken, f.sign)),
			wantStage: source.StageCompile, wantErr: "undefined function nope",
		},
	}
	// Every case starts from the same bundle, so one pass over the matrix gives the
	// decisions before for all of them.
	base, _ := servedRig(t, f, f.good)
	before := decideAll(t, base.svc)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, srv := servedRig(t, f, f.good)
			m, svc := r.m, r.svc

			switch {
			case tt.down:
				srv.Close()
			case tt.status != 0:
				srv.fail(tt.status)
			default:
				srv.serve(tt.body)
			}
			err := m.Refresh(context.Background())
			if source.StageOf(err) != tt.wantStage || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("refresh error = %v, want a %s failure saying %q", err, tt.wantStage, tt.wantErr)
			}
			if diff := cmp.Diff(before, decideAll(t, svc)); diff != "" {
				t.Fatalf("decisions changed after a failed refresh (-before +after):\n%s", diff)
			}
			checkFailureShown(t, m.Status(), f.good.Manifest.Revision, tt.wantStage, tt.wantErr)
		})
	}
}

func checkFailureShown(t *testing.T, st source.Status, revision string, stage source.Stage, msg string) {
	t.Helper()
	if st.Policy == nil || st.Policy.Revision != revision || !st.Ready {
		t.Errorf("status policy = %+v, ready %v; want revision %s still active", st.Policy, st.Ready, revision)
	}
	if st.LastError == nil || st.LastError.Stage != stage || !strings.Contains(st.LastError.Error, msg) {
		t.Errorf("status last error = %+v, want a %s failure saying %q", st.LastError, stage, msg)
	}
	if st.Stats.Failures[stage] != 1 || st.Stats.Activations != 1 {
		t.Errorf("stats = %+v, want one %s failure and one activation", st.Stats, stage)
	}
}

func TestBearerToken(t *testing.T) {
	f := newFixture(t)
	srv := newBundleServer(t, bundletest.Tarball(t, f.good))
	srv.token = "s3cret-t0ken"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("wrong\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := f.urlConfig(srv.URL)
	cfg.TokenFile = tokenFile
	var logs bytes.Buffer
	e := engine.New(nil)
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := source.New(cfg, e, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(context.Background()); source.StageOf(err) != source.StageDownload {
		t.Fatalf("refresh with the wrong token: %v, want a download failure", err)
	}
	// The file is read for every request, so a rotated token takes effect.
	if err := os.WriteFile(tokenFile, []byte(srv.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := srv.seen()[1].Auth; got != "Bearer "+srv.token {
		t.Fatalf("Authorization = %q", got)
	}
	if strings.Contains(logs.String(), srv.token) || strings.Contains(logs.String(), "wrong") {
		t.Fatalf("a token reached the log:\n%s", logs.String())
	}
}

func TestMaxBundleBytes(t *testing.T) {
	f := newFixture(t)
	body := bundletest.Tarball(t, f.good)
	srv := newBundleServer(t, body)
	cfg := f.urlConfig(srv.URL)
	cfg.MaxBundleBytes = int64(len(body) - 1)
	err := newRig(t, cfg).m.Refresh(context.Background())
	if source.StageOf(err) != source.StageDownload || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("refresh error = %v, want a download failure over the limit", err)
	}
}

func TestPolicyStale(t *testing.T) {
	f := newFixture(t)
	srv := newBundleServer(t, bundletest.Tarball(t, f.good))
	cfg := f.urlConfig(srv.URL)
	// Polls renew the policy every 20ms; only a stall of 5s between them would make
	// it stale while the server is up.
	cfg.PollInterval, cfg.MaxPolicyAge = 20*time.Millisecond, 5*time.Second
	r := newRig(t, cfg)
	m, svc := r.m, r.svc
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Ready(); err != nil {
		t.Fatalf("not ready after the first download: %v", err)
	}
	if d := svc.Decide(context.Background(), adminViews); !d.Allow {
		t.Fatalf("decision = %+v, want allowed", d)
	}

	srv.fail(http.StatusServiceUnavailable)
	eventually(t, "the policy is stale", func() bool { return m.Status().Stale })
	d := svc.Decide(context.Background(), adminViews)
	if d.Allow || d.Reasons[0].Code != authz.CodePolicyStale || d.PolicyRevision != f.good.Manifest.Revision {
		t.Fatalf("decision = %+v, want policy_stale at revision %s", d, f.good.Manifest.Revision)
	}
	if err := m.Ready(); !errors.Is(err, source.ErrNotReady) || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("ready = %v, want not ready because stale", err)
	}
	if st := m.Status(); st.Ready || !strings.Contains(st.Reason, "stale") {
		t.Fatalf("status = %+v, want not ready because stale", st)
	}

	srv.serve(bundletest.Tarball(t, f.good))
	eventually(t, "the policy is fresh again", func() bool { return m.Ready() == nil })
	if d := svc.Decide(context.Background(), adminViews); !d.Allow {
		t.Fatalf("decision = %+v, want allowed once refreshed", d)
	}
}

func TestBundleWithoutRevision(t *testing.T) {
	f := newFixture(t)
	b := bundletest.Policy(t, nil)
	b.Manifest.Revision = ""
	srv := newBundleServer(t, bundletest.Tarball(t, bundletest.Sign(t, b, f.sign)))
	r := newRig(t, f.urlConfig(srv.URL))
	if err := r.m.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The same sources as the fixture's good bundle: the same content hash.
	if st := r.m.Status(); st.Policy.Revision != f.good.Manifest.Revision {
		t.Fatalf("revision %q, want the content hash %s", st.Policy.Revision, f.good.Manifest.Revision)
	}
}

// TestRejectedBundleFailsAtOnce: the bundle service serving the same broken bundle
// again gets the same failure without a second compilation, and a new bundle after it
// is taken as usual.
func TestRejectedBundleFailsAtOnce(t *testing.T) {
	f := newFixture(t)
	broken := bundletest.Sign(t, bundletest.Policy(t, map[string]string{
		"rolegate/broken.rego": "package rolegate.broken\n\nx := nope(1)\n",
	}), f.sign)
	r, srv := servedRig(t, f, f.good)
	srv.serve(bundletest.Tarball(t, broken))

	first := r.m.Refresh(context.Background())
	again := r.m.Refresh(context.Background())
	if source.StageOf(first) != source.StageCompile || again != first {
		t.Fatalf("refreshes = %v, then %v; want one compile failure returned again as it was", first, again)
	}
	if n := r.m.Status().Stats.Failures[source.StageCompile]; n != 2 {
		t.Fatalf("%d compile failures counted, want both refreshes counted", n)
	}

	srv.serve(bundletest.Tarball(t, f.other))
	if err := r.m.Refresh(context.Background()); err != nil {
		t.Fatalf("refresh with a new good bundle: %v", err)
	}
	if p := r.e.Policy(); p.Revision() != f.other.Manifest.Revision {
		t.Fatalf("active revision %s, want %s", p.Revision(), f.other.Manifest.Revision)
	}
}
