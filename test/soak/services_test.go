//go:build soak

package soak

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/auth/authtest"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/test/redistest"
	"github.com/rolegate/rolegate/test/servetest"
)

// Settings of the services under test.
const (
	lookupTimeout = 250 * time.Millisecond // redis.lookup_timeout, the default
	maxStaleness  = 30 * time.Second       // redis.max_staleness, the default
	issuer        = "https://idp.soak.test"
	audience      = "rolegate"
)

// service is a running rolegate.
type service struct {
	*servetest.Service
	pid int
	// keys sign the bearer tokens of its membership API.
	keys *authtest.Keys
}

// serveOptions say how to configure a rolegate.
type serveOptions struct {
	redisURL string // the membership store; empty: the data file
	dataFile string
	// policySource is the YAML of a policy_source section; empty: the policy built in.
	policySource string
}

// startService writes a configuration file and runs rolegate serve on a free port,
// with the membership API authenticated by keys and no decision log.
func startService(t *testing.T, o serveOptions) *service {
	t.Helper()
	keys := authtest.NewKeys(t)
	var b strings.Builder
	fmt.Fprintf(&b, "decision_log: \"off\"\nauth:\n  jwt:\n    issuer: %s\n    audience: %s\n"+
		"    keys: [{algorithm: RS256, file: %s}]\n", issuer, audience, keys.RSAFile)
	if o.redisURL != "" {
		fmt.Fprintf(&b, "redis:\n  url: %s\n  lookup_timeout: %s\n  max_staleness: %s\n",
			o.redisURL, lookupTimeout, maxStaleness)
	} else {
		fmt.Fprintf(&b, "data: %s\n", o.dataFile)
	}
	if o.policySource != "" {
		b.WriteString("policy_source:\n" + o.policySource)
	}
	cfg := filepath.Join(t.TempDir(), "rolegate.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s := servetest.Start(t, binary, servetest.Options{
		Dir: repoRoot, Env: []string{"PATH=/usr/bin:/bin"},
		Args: []string{"serve", "--config", cfg, "--addr", "127.0.0.1:0"},
	})
	return &service{Service: s, pid: s.Cmd.Process.Pid, keys: keys}
}

// bearer returns an Authorization header value for user.
func (s *service) bearer(t *testing.T, user string) string {
	t.Helper()
	return "Bearer " + authtest.Sign(t, map[string]any{"alg": "RS256", "typ": "JWT"},
		authtest.Claims(user, issuer, audience), s.keys.RSA)
}

// startRedis starts a redis-server (append-only with appendfsync always when
// durable) and imports the data file into it with the rolegate binary.
func startRedis(t *testing.T, w *world, durable bool) *redistest.Server {
	t.Helper()
	r := redistest.Start(t, redistest.Options{AppendOnly: durable})
	rolegate(t, "members", "import", "--redis", r.URL(), w.file)
	return r
}

// rolegate runs the binary with args and returns its standard output.
func rolegate(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("rolegate %v: %v\n%s", args, err, stderr)
	}
	return string(out)
}

// export reads the membership data Redis holds, with rolegate members export.
func export(t *testing.T, url string) *membership.Data {
	t.Helper()
	d, err := membership.Decode(strings.NewReader(rolegate(t, "members", "export", "--redis", url)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
