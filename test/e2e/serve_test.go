package e2e

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
)

// service is a running `rolegate serve` process.
type service struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan error
}

// startServe runs `rolegate serve` with args on a free port and waits until it
// listens. The process is killed when the test ends, if still running.
func startServe(t *testing.T, env []string, args ...string) *service {
	t.Helper()
	s := &service{done: make(chan error, 1)}
	s.cmd = exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	s.cmd.Dir = repoRoot
	s.cmd.Env = append(env, "ROLEGATE_LOG_FORMAT=json", "PATH=/usr/bin:/bin")
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout = &lockedWriter{mu: &s.mu, w: &s.stdout}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.cmd.Process.Kill() })

	addr := make(chan string, 1)
	go s.readLog(stderr, addr)
	go func() { s.done <- s.cmd.Wait() }()
	select {
	case a := <-addr:
		s.url = "http://" + a
	case err := <-s.done:
		t.Fatalf("serve exited before listening: %v\n%s", err, s.logs())
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not listen within 20s\n%s", s.logs())
	}
	return s
}

// readLog copies the service log and reports the address from its "listening" line.
func (s *service) readLog(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.stderr.WriteString(line + "\n")
		s.mu.Unlock()
		var entry struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "listening" {
			addr <- entry.Addr
		}
	}
}

func (s *service) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "stdout:\n" + s.stdout.String() + "stderr:\n" + s.stderr.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func post(t *testing.T, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func TestServeDecidesAndShutsDownGracefully(t *testing.T) {
	s := startServe(t, nil, "--data", "examples/memberships.json")

	const secret = "Bearer e2e-secret-token-value"
	status, body := post(t, s.url+"/v1/decisions",
		`{"subject":"u-dana","action":"miniprogram:create","resource":{"workspace":"dw-shop"}}`,
		"Authorization", secret, "Cookie", "session=e2e-cookie-value")
	if status != http.StatusOK || !strings.Contains(body, `"allow":true`) {
		t.Fatalf("decision: %d %s", status, body)
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, s.logs())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop within 15s of SIGTERM\n%s", s.logs())
	}

	logs := s.logs()
	for _, want := range []string{`"msg":"decision"`, `"decision_id"`, `"msg":"stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{"e2e-secret-token-value", "e2e-cookie-value"} {
		if strings.Contains(logs, secret) {
			t.Errorf("a credential reached the logs: %s", secret)
		}
	}
}

func TestServeRefusesBadConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		args    []string
		wantErr string
	}{
		{"no data", nil, nil, "no membership store"},
		{"bad limit", []string{"ROLEGATE_MAX_BATCH=0"}, []string{"--data", "examples/memberships.json"}, "max_batch"},
		{"bad level", []string{"ROLEGATE_LOG_LEVEL=loud"}, []string{"--data", "examples/memberships.json"}, "log.level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...)...)
			cmd.Dir = repoRoot
			cmd.Env = tt.env
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tt.wantErr) {
				t.Fatalf("err %v, output %q; want a failure naming %q", err, out, tt.wantErr)
			}
		})
	}
}
