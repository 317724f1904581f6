package e2e

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rolegate/rolegate/test/servetest"
)

// service is a running `rolegate serve` process.
type service struct {
	*servetest.Service
	url  string
	cmd  *exec.Cmd
	done chan error
}

// startServe runs `rolegate serve` with args on a free port and waits until it
// listens. The process is killed when the test ends, if still running.
func startServe(t *testing.T, env []string, args ...string) *service {
	t.Helper()
	s := servetest.Start(t, binary, servetest.Options{
		Dir:  repoRoot,
		Env:  append(env, "PATH=/usr/bin:/bin"),
		Args: append([]string{"serve", "--addr", "127.0.0.1:0"}, args...),
	})
	done := make(chan error, 1)
	go func() { <-s.Done(); done <- s.Err() }()
	return &service{Service: s, url: s.URL, cmd: s.Cmd, done: done}
}

func (s *service) logs() string { return s.Logs() }

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
