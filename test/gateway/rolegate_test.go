package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-json-experiment/json"

	"github.com/rolegate/rolegate/internal/auth/authtest"
	"github.com/rolegate/rolegate/test/servetest"
)

// The JWT issuer and audience the served gateway is configured with.
const (
	issuer   = "https://id.example.test"
	audience = "rolegate-gateway"
)

// configTemplate is the served binary's configuration: the example memberships, the
// built-in policy, the gateway with an RS256 key. The check timeout is far above the
// 150 ms default: a busy machine must not turn an allow these tests expect into a
// timeout.
const configTemplate = `addr: 127.0.0.1:0
data: %s
decision_log: "off"
log:
  format: json
  level: debug
gateway:
  jwt:
    issuer: %s
    audience: %s
    keys:
      - {id: test, algorithm: RS256, file: %s}
  timeout: 5s
  grpc_addr: 127.0.0.1:0
`

// rolegate is a running `rolegate serve` process with the gateway on.
type rolegate struct {
	*servetest.Service
	// httpAddr and grpcAddr are the host:port of the HTTP API and of the Envoy
	// ext_authz gRPC listener, read from the service's log.
	httpAddr, grpcAddr string
	log                logs

	mu     sync.Mutex
	checks []check
}

// logs is the service's output, as its String method gives it.
type logs struct{ s *servetest.Service }

func (l logs) String() string { return l.s.Logs() }

// check is a "gateway check" line of the service log: one decision.
type check struct {
	Outcome   string   `json:"outcome"`
	Method    string   `json:"method"`
	Path      string   `json:"path"`
	Subject   string   `json:"subject"`
	Operation string   `json:"operation"`
	Reasons   []string `json:"reasons"`
}

// startRolegate writes a config file for keys.RSAFile, runs `rolegate serve --config`
// and waits until both listeners are up. The process is killed when the test ends.
func startRolegate(t *testing.T, keys *authtest.Keys) *rolegate {
	t.Helper()
	data, err := filepath.Abs(filepath.Join(repoRoot, "examples", "memberships.json"))
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "rolegate.yaml")
	body := fmt.Sprintf(configTemplate, data, issuer, audience, keys.RSAFile)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}

	r := &rolegate{}
	r.Service = servetest.Start(t, binary, servetest.Options{
		Dir:       repoRoot,
		Args:      []string{"serve", "--config", conf},
		Env:       []string{"PATH=/usr/bin:/bin"},
		Listeners: []string{"listening", "envoy ext_authz listening"},
		OnLine:    r.keepCheck,
	})
	r.httpAddr, r.grpcAddr = r.Addr("listening"), r.Addr("envoy ext_authz listening")
	r.log = logs{r.Service}
	return r
}

// keepCheck keeps the "gateway check" lines of the service log.
func (r *rolegate) keepCheck(line []byte) {
	var c struct {
		Msg string `json:"msg"`
		check
	}
	if json.Unmarshal(line, &c) != nil || c.Msg != "gateway check" {
		return
	}
	r.mu.Lock()
	r.checks = append(r.checks, c.check)
	r.mu.Unlock()
}

// checksSince returns the checks logged after the first n.
func (r *rolegate) checksSince(n int) []check {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]check(nil), r.checks[min(n, len(r.checks)):]...)
}

// checkCount is the number of checks logged so far.
func (r *rolegate) checkCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.checks)
}

// kill stops the service at once, as a crash would, and waits until it is gone.
func (r *rolegate) kill(t *testing.T) { r.Kill(t) }

// token signs valid claims for the subject with the configured RSA key.
func token(t *testing.T, keys *authtest.Keys, subject string) string {
	t.Helper()
	return authtest.Sign(t, map[string]any{"alg": "RS256", "kid": "test"},
		authtest.Claims(subject, issuer, audience), keys.RSA)
}

// noSecrets fails the test when a log repeats one of the secrets.
func noSecrets(t *testing.T, log string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("the log repeats a credential (%.12s...)", s)
		}
	}
}
