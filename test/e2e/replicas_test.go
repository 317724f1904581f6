package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/auth/authtest"
	"github.com/rolegate/rolegate/test/redistest"
)

const (
	e2eIssuer   = "https://idp.rolegate.test"
	e2eAudience = "rolegate"
)

// adminConfig writes a config file that authenticates the membership API with the
// keys' RSA key, and returns its path.
func adminConfig(t *testing.T, keys *authtest.Keys) string {
	t.Helper()
	cfg := fmt.Sprintf(`decision_log: "off"
auth:
  jwt:
    issuer: %s
    audience: %s
    keys:
      - algorithm: RS256
        file: %s
`, e2eIssuer, e2eAudience, keys.RSAFile)
	path := filepath.Join(t.TempDir(), "rolegate.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func request(t *testing.T, method, url, body, authorization string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// TestTwoReplicasShareOneRedis: a role revoked through replica A is denied by
// replica B, which had the old grant in its near cache. The delay is measured.
func TestTwoReplicasShareOneRedis(t *testing.T) {
	redis := redistest.Start(t, redistest.Options{})
	if r := run(t, "", "members", "import", "--redis", redis.URL(), "examples/memberships.json"); r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	keys := authtest.NewKeys(t)
	cfg := adminConfig(t, keys)
	a := startServe(t, nil, "--config", cfg, "--redis", redis.URL())
	b := startServe(t, nil, "--config", cfg, "--redis", redis.URL())

	const view = `{"subject":"u-dev","action":"miniprogram:view","resource":{"workspace":"dw-shop","id":"mp-1"}}`
	if _, body := post(t, b.url+"/v1/decisions", view); !strings.Contains(body, `"allow":true`) {
		t.Fatalf("before the revocation B says %s", body)
	}
	dana := "Bearer " + authtest.Sign(t, map[string]any{"alg": "RS256", "typ": "JWT"},
		authtest.Claims("u-dana", e2eIssuer, e2eAudience), keys.RSA)

	start := time.Now()
	status, body := request(t, "POST", a.url+"/v1/workspaces/dw-shop/members/u-dev/block", "", dana)
	acked := time.Since(start)
	if status != http.StatusOK {
		t.Fatalf("block through A: %d %s", status, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, got := post(t, b.url+"/v1/decisions", view)
		if strings.Contains(got, `"allow":false`) && strings.Contains(got, "member_blocked") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B still allows 10 s after the revocation: %s", got)
		}
		time.Sleep(time.Millisecond)
	}
	seen := time.Since(start)
	t.Logf("revocation acknowledged by A after %v; denied by B %v after the write began", acked, seen)

	rev := between(body, `"revision":"`, `"`)
	withToken := strings.Replace(view, `}}`, `}, "consistency":{"at_least":"`+rev+`"}}`, 1)
	if _, got := post(t, b.url+"/v1/decisions", withToken); !strings.Contains(got, `"allow":false`) {
		t.Fatalf("B with the write's token: %s", got)
	}
}

func between(s, start, end string) string {
	_, after, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(after, end)
	return v
}
