package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/test/redistest"
)

// TestReadinessFollowsRedis: with Redis killed, /readyz says degraded and a decision
// whose facts are not cached is denied membership_unavailable; once Redis is back the
// service is ready again by itself and allows what the data grants.
func TestReadinessFollowsRedis(t *testing.T) {
	redis := redistest.Start(t, redistest.Options{AppendOnly: true})
	if r := run(t, "", "members", "import", "--redis", redis.URL(), "examples/memberships.json"); r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	svc := startServe(t, nil, "--redis", redis.URL())
	waitStatus(t, svc.url+"/readyz", 200, `"ready"`)

	redis.Kill()
	waitStatus(t, svc.url+"/readyz", 503, `"degraded"`)
	const cold = `{"subject":"u-ann","action":"workspace:view","resource":{"workspace":"tw-alpha"}}`
	if _, body := post(t, svc.url+"/v1/decisions", cold); !strings.Contains(body, `"membership_unavailable"`) {
		t.Fatalf("with Redis down a cold decision says %s", body)
	}

	redis.Restart()
	start := time.Now()
	waitStatus(t, svc.url+"/readyz", 200, `"ready"`)
	t.Logf("ready again %s after Redis restarted", time.Since(start).Round(time.Millisecond))
	if _, body := post(t, svc.url+"/v1/decisions", cold); !strings.Contains(body, `"allow":true`) {
		t.Fatalf("after Redis returned the decision says %s", body)
	}
}

// waitStatus polls url until it answers status with a body containing want.
func waitStatus(t *testing.T, url string, status int, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var code int
	var body string
	for time.Now().Before(deadline) {
		code, body = request(t, "GET", url, "", "")
		if code == status && strings.Contains(body, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("GET %s: %d %s, want %d with %s", url, code, body, status, want)
}
