package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestServeWaitsForTheBundleService: with the bundle service down at start, the
// service starts, is not ready and denies; once the service answers, the policy is
// activated without a restart and decisions flow.
func TestServeWaitsForTheBundleService(t *testing.T) {
	bundleFile := filepath.Join(t.TempDir(), "rolegate.tar.gz")
	if r := run(t, "", "bundle", "build", "-o", bundleFile, "policies"); r.code != 0 {
		t.Fatalf("bundle build: %s", r.stderr)
	}
	var up atomic.Bool
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		http.ServeFile(w, r, bundleFile)
	}))
	defer svc.Close()

	cfg := filepath.Join(t.TempDir(), "rolegate.yaml")
	body := "data: examples/memberships.json\ndecision_log: \"off\"\npolicy_source:\n  url: " + svc.URL +
		"/rolegate.tar.gz\n  poll_interval: 200ms\n  timeout: 2s\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, nil, "--config", cfg)

	if status := get(t, s.url+"/readyz"); status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with no policy: %d, want 503", status)
	}
	const req = `{"subject":"u-dana","action":"miniprogram:create","resource":{"workspace":"dw-shop"}}`
	if _, got := post(t, s.url+"/v1/decisions", req); !strings.Contains(got, "policy_unavailable") {
		t.Fatalf("decision with no policy: %s", got)
	}

	up.Store(true)
	deadline := time.Now().Add(20 * time.Second)
	for get(t, s.url+"/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("not ready 20 s after the bundle service came up\n%s", s.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, got := post(t, s.url+"/v1/decisions", req); !strings.Contains(got, `"allow":true`) {
		t.Fatalf("decision once ready: %s", got)
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
