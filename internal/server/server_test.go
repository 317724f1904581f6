package server_test

import (
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
	"github.com/rolegate/rolegate/internal/config"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/metrics"
	"github.com/rolegate/rolegate/internal/server"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// world is what a test server decides on.
type world struct {
	policy *engine.Policy
	store  membership.Reader
	pinger server.Store
	limits config.Limits
}

func exampleWorld(t testing.TB) world {
	t.Helper()
	p := bundletest.Compile(t, nil)
	data, err := membership.LoadFile("../../examples/memberships.json", p.Model().RoleTypes())
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New(data)
	return world{policy: p, store: store, pinger: store, limits: config.Default().Limits}
}

func newServer(t testing.TB, w world) http.Handler {
	t.Helper()
	svc := authz.NewService(engine.New(w.policy), w.store)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	return server.New(server.Options{
		Service: svc, Store: w.pinger, Limits: w.limits, Logger: logger, Metrics: metrics.New(),
	}).Handler()
}

// call sends one request to h and returns the response.
func call(h http.Handler, method, target, contentType, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return serve(h, req)
}

var volatile = regexp.MustCompile(`"(decision_id|policy)":"[^"]*"`)

// normalize replaces the values that change from run to run.
func normalize(body string) string {
	return volatile.ReplaceAllString(body, `"$1":"<$1>"`)
}

// golden compares got with testdata/<name>.golden, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", strings.NewReplacer("/", "_", " ", "_").Replace(name)+".golden")
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
		t.Fatalf("response differs from %s (-want +got):\n%s", path, diff)
	}
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(m.Run())
}
