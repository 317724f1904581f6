//go:build soak

package soak

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/bundle"
	"github.com/rolegate/rolegate/internal/bundle/bundletest"
)

// Phases of TestBundleServiceFaults.
const (
	bundleGood  = 5 * time.Second // the good bundle, before and between faults
	bundleFault = 5 * time.Second
	bundlePoll  = 200 * time.Millisecond
)

// TestBundleServiceFaults has rolegate poll a signed bundle from a bundle service that
// then answers 503, serves the bundle truncated, and serves a bundle that allows
// everything signed with another key, with the good bundle again after each. No
// decision may change: every answer is the data's under the good policy, at its
// revision. Each failure must show in /v1/status (last_error) and in
// rolegate_policy_refresh_failures_total at its stage.
func TestBundleServiceFaults(t *testing.T) {
	w := newWorld(t)
	good, evil := bundles(t)
	var serving atomic.Pointer[[]byte]
	serving.Store(&good.tarball)
	bundles := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body := serving.Load()
		if body == nil {
			http.Error(rw, "down", http.StatusServiceUnavailable)
			return
		}
		rw.Write(*body)
	}))
	defer bundles.Close()
	svc := startService(t, serveOptions{dataFile: w.file, policySource: fmt.Sprintf(
		"  url: %s/rolegate.tar.gz\n  poll_interval: %s\n  verification: {key_file: %s, algorithm: RS256}\n",
		bundles.URL, bundlePoll, good.verification.KeyFile)})
	it := begin(t, fmt.Sprintf("%d/s", *rate), "bundle service: 503, truncated bundle, wrong signature")
	want := oracle(t, w.data, w.mix)

	truncated := good.tarball[:len(good.tarball)/2]
	faults := []struct {
		name  string
		body  *[]byte
		stage string
	}{
		{"503", nil, "download"},
		{"truncated", &truncated, "parse"},
		{"wrong signature", &evil, "verify"},
	}
	total := bundleGood + time.Duration(len(faults))*(bundleFault+bundleGood)
	load := startLoad(svc.URL, w.bodies, *rate, total)
	time.Sleep(bundleGood)
	revision := policyStatus(t, svc.URL).Revision
	for _, f := range faults {
		before := metric(t, svc.URL, "rolegate_policy_refresh_failures_total", `stage="`+f.stage+`"`)
		serving.Store(f.body)
		time.Sleep(bundleFault)
		st := policyStatus(t, svc.URL)
		failures := metric(t, svc.URL, "rolegate_policy_refresh_failures_total", `stage="`+f.stage+`"`) - before
		it.check(t, st.Source.LastError.Stage == f.stage && failures > 0 && st.Ready,
			"%s: status last_error at %s, %.0f %s failures counted, ready %v",
			f.name, st.Source.LastError.Stage, failures, f.stage, st.Ready)
		serving.Store(&good.tarball)
		time.Sleep(bundleGood)
	}
	hits := load.wait()

	changed := count(hits, func(h hit) bool {
		return h.ok() && (h.allow != want[h.index] || h.policy != revision)
	})
	it.figure(t, "%d decisions", len(hits))
	it.check(t, errorCount(hits) == 0, "%d errors%s", errorCount(hits), firstError(hits))
	it.check(t, changed == 0, "%d decisions changed", changed)
}

// signedBundle is a policy bundle as a bundle service serves it, and the key that
// verifies it.
type signedBundle struct {
	tarball      []byte
	verification bundle.Verification
}

// bundles returns the built-in policy signed with a key of the test, and a policy
// that allows everything signed with another key.
func bundles(t *testing.T) (signedBundle, []byte) {
	t.Helper()
	signing, verification := bundletest.Keys(t, bundle.AlgRS256)
	good := bundletest.Tarball(t, bundletest.Sign(t, bundletest.Policy(t, nil), signing))
	otherSigning, _ := bundletest.Keys(t, bundle.AlgRS256)
	const authz = "rolegate/authz/authz.rego"
	allowAll := bundletest.Edit(t, authz, "default allow := false", "default allow := true")
	evil := bundletest.Policy(t, map[string]string{authz: allowAll})
	return signedBundle{tarball: good, verification: verification},
		bundletest.Tarball(t, bundletest.Sign(t, evil, otherSigning))
}

// policyState is the part of GET /v1/status this test reads.
type policyState struct {
	Revision string `json:"revision"`
	Ready    bool   `json:"ready"`
	Source   struct {
		LastError struct {
			Stage string `json:"stage"`
		} `json:"last_error"`
	} `json:"source"`
}

func policyStatus(t *testing.T, base string) policyState {
	t.Helper()
	_, body := get(t, base+"/v1/status")
	var st struct {
		Policy policyState `json:"policy"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("status %s: %v", body, err)
	}
	return st.Policy
}
