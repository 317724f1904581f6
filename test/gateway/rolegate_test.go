package gateway

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/rolegate/rolegate/internal/auth/authtest"
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
	cmd *exec.Cmd
	// httpAddr and grpcAddr are the host:port of the HTTP API and of the Envoy
	// ext_authz gRPC listener, read from the service's log.
	httpAddr, grpcAddr string
	log                syncBuffer
	done               chan struct{}

	mu     sync.Mutex
	checks []check
}

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

	r := &rolegate{done: make(chan struct{})}
	r.cmd = exec.Command(binary, "serve", "--config", conf)
	r.cmd.Dir = repoRoot
	r.cmd.Env = []string{"PATH=/usr/bin:/bin"}
	r.cmd.Stdout = &r.log
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.stop)
	addrs := make(chan [2]string, 1)
	go func() {
		r.readLog(stderr, addrs) // to the end of the log, before Wait closes the pipe
		_ = r.cmd.Wait()
		close(r.done)
	}()

	select {
	case a := <-addrs:
		r.httpAddr, r.grpcAddr = a[0], a[1]
	case <-r.done:
		t.Fatalf("rolegate serve exited before listening\n%s", r.log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("rolegate serve did not listen within 30s\n%s", r.log.String())
	}
	return r
}

// readLog copies the service log, keeps its checks and reports the addresses of its
// two "listening" lines once it has seen both.
func (r *rolegate) readLog(rd io.Reader, addrs chan<- [2]string) {
	var httpAddr, grpcAddr string
	sc := bufio.NewScanner(rd)
	for sc.Scan() {
		line := sc.Bytes()
		r.log.Write(append(line, '\n'))
		var entry struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(line, &entry) != nil {
			continue
		}
		switch entry.Msg {
		case "gateway check":
			var c check
			if json.Unmarshal(line, &c) == nil {
				r.mu.Lock()
				r.checks = append(r.checks, c)
				r.mu.Unlock()
			}
			continue
		case "listening":
			httpAddr = entry.Addr
		case "envoy ext_authz listening":
			grpcAddr = entry.Addr
		default:
			continue
		}
		if httpAddr != "" && grpcAddr != "" {
			addrs <- [2]string{httpAddr, grpcAddr} // once: each line is logged once
		}
	}
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
func (r *rolegate) kill(t *testing.T) {
	t.Helper()
	_ = r.cmd.Process.Kill()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatal("rolegate did not exit within 30s of SIGKILL")
	}
}

func (r *rolegate) stop() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

// syncBuffer is a buffer that a process's output and the test may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

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
