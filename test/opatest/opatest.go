// Package opatest runs OPA's own server beside rolegate, for tests and benchmarks
// that compare the two: the opa binary is built from the OPA module version go.mod
// pins, into bin/opa at the repository's top (git-ignored).
package opatest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/rolegate/rolegate/test/servetest"
)

// module is the OPA module whose main package is the opa command.
const module = "github.com/open-policy-agent/opa"

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// Binary returns the path of bin/opa, building it first when it is missing or is
// another version than the one go.mod pins. It fails the test when it cannot.
func Binary(tb testing.TB) string {
	tb.Helper()
	binaryOnce.Do(func() {
		var root string
		if root, binaryErr = moduleRoot(); binaryErr == nil {
			binaryPath = filepath.Join(root, "bin", "opa")
			binaryErr = Ensure(binaryPath)
		}
	})
	if binaryErr != nil {
		tb.Fatalf("opatest: %v", binaryErr)
	}
	return binaryPath
}

// Ensure makes the opa binary at bin the version go.mod pins, building it there when
// it is missing or another version. It needs no test, so that programs such as the
// benchmark harness build their peer the same way.
func Ensure(bin string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	want, err := PinnedVersion()
	if err != nil {
		return err
	}
	if version(bin) == want {
		return nil
	}
	return build(root, bin)
}

// PinnedVersion returns the OPA version go.mod pins, without the leading v.
func PinnedVersion() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	want, err := goOutput(root, "list", "-m", "-f", "{{.Version}}", module)
	if err != nil {
		return "", fmt.Errorf("read the OPA version go.mod pins: %w", err)
	}
	return strings.TrimPrefix(want, "v"), nil
}

// moduleRoot returns the folder of the go.mod of the module being built or tested.
func moduleRoot() (string, error) {
	gomod, err := goOutput("", "env", "GOMOD")
	if err != nil {
		return "", fmt.Errorf("find the module's go.mod: %w", err)
	}
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("find the module's go.mod: not inside a module")
	}
	return filepath.Dir(gomod), nil
}

// version returns the version the opa binary at path reports, or "" when it cannot.
func version(path string) string {
	out, err := exec.Command(path, "version").Output()
	if err != nil {
		return ""
	}
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(line, "Version: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// build builds the opa command into bin through a temporary file, so that test
// packages (or a test and the benchmark) building at once never run a half-written
// binary.
func build(root, bin string) error {
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	if _, err := goOutput(root, "build", "-o", tmp, module); err != nil {
		return fmt.Errorf("build opa: %w", err)
	}
	return os.Rename(tmp, bin)
}

func goOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// Server is an `opa run --server` process on a loopback port.
type Server struct {
	// URL is the server's base URL, such as http://127.0.0.1:40123.
	URL    string
	cmd    *exec.Cmd
	output *servetest.Buffer
	exited chan struct{} // closed once the process has exited
}

// Start runs `opa run --server --addr 127.0.0.1:PORT` with args (flags, then
// bundle or data paths) on a free port, and returns once the server is healthy.
// The server is stopped when the test ends; its output is logged if the test fails.
func Start(tb testing.TB, args ...string) *Server {
	tb.Helper()
	addr, err := servetest.FreeAddr()
	if err != nil {
		tb.Fatalf("opatest: %v", err)
	}
	argv := append([]string{"run", "--server", "--addr", addr, "--skip-version-check", "--log-level", "error"}, args...)
	s := &Server{URL: "http://" + addr, output: &servetest.Buffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(Binary(tb), argv...)
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("opatest: start opa: %v", err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	tb.Cleanup(func() { s.stop(tb) })
	if err := s.waitHealthy(30 * time.Second); err != nil {
		tb.Fatalf("opatest: %v\nopa %s\n%s", err, strings.Join(argv, " "), s.output.String())
	}
	return s
}

func (s *Server) stop(tb testing.TB) {
	_ = s.cmd.Process.Kill()
	<-s.exited
	if tb.Failed() {
		tb.Logf("opa output:\n%s", s.output.String())
	}
}

// waitHealthy polls GET /health until OPA answers, the process exits, or the
// timeout passes. OPA loads the paths it is given before it listens.
func (s *Server) waitHealthy(timeout time.Duration) error {
	deadline := time.After(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := http.Get(s.URL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("opa exited: %v", s.cmd.ProcessState)
		case <-deadline:
			return fmt.Errorf("opa not healthy after %s", timeout)
		case <-tick.C:
		}
	}
}

// Query evaluates the document at path (such as "rolegate/authz/decision") for
// input through POST /v1/data/PATH and returns its result, which is absent (nil)
// when the document is undefined.
func (s *Server) Query(ctx context.Context, path string, input any) (jsontext.Value, error) {
	body, err := json.Marshal(map[string]any{"input": input})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/v1/data/"+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("query %s: %s: %s %v", path, resp.Status, raw, err)
	}
	var out struct {
		Result jsontext.Value `json:"result"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("query %s: %w", path, err)
	}
	return out.Result, nil
}
