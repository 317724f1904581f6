// Package servetest builds the rolegate binary once for a test binary and runs
// `rolegate serve` as a real process: it waits for the listeners the service logs,
// keeps its output, and kills it when the test ends.
package servetest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
)

// Build builds ./cmd/rolegate of the repository at root into a temporary folder. Call
// it from TestMain; cleanup removes the folder.
func Build(root string) (bin string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "rolegate-bin-")
	if err != nil {
		return "", nil, err
	}
	bin = filepath.Join(dir, "rolegate")
	build := exec.Command("go", "build", "-o", bin, "./cmd/rolegate")
	build.Dir = root
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build rolegate: %w", err)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// Main is a TestMain for packages that drive the binary: it builds rolegate at root
// into *binary, runs the tests, removes the build and exits with their code.
func Main(m *testing.M, root string, binary *string) {
	bin, cleanup, err := Build(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*binary = bin
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// FreeAddr returns a loopback address whose port nothing listened on a moment ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Decision is an answer of POST /v1/decisions, as a client reads it.
type Decision struct {
	ID      string `json:"decision_id"`
	Allow   bool   `json:"allow"`
	Reasons []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"reasons"`
	Revision struct {
		Policy     string `json:"policy"`
		Membership string `json:"membership"`
	} `json:"revision"`
}

// Options say how to run the service.
type Options struct {
	// Dir is the working directory, usually the repository's top folder.
	Dir string
	// Args follow "rolegate"; they usually start with "serve".
	Args []string
	// Env is the whole environment; the service log is forced to JSON.
	Env []string
	// Listeners are the log messages, each with an "addr" attribute, to wait for;
	// default {"listening"}, the HTTP API.
	Listeners []string
	// OnLine, when set, sees every line of the service log.
	OnLine func(line []byte)
	// Wait bounds the wait for the listeners; default 30 s.
	Wait time.Duration
}

// Service is a running rolegate process.
type Service struct {
	Cmd *exec.Cmd
	// URL is the HTTP API's base URL.
	URL string

	addrs map[string]string
	out   Buffer
	done  chan struct{}
	err   error
}

// Start runs the service and waits until every listener is up. It is killed when the
// test ends, if still running.
func Start(t testing.TB, bin string, opts Options) *Service {
	t.Helper()
	if len(opts.Listeners) == 0 {
		opts.Listeners = []string{"listening"}
	}
	s := &Service{addrs: map[string]string{}, done: make(chan struct{})}
	s.Cmd = exec.Command(bin, opts.Args...)
	s.Cmd.Dir = opts.Dir
	s.Cmd.Env = append(append([]string{}, opts.Env...), "ROLEGATE_LOG_FORMAT=json")
	s.Cmd.Stdout = &s.out
	stderr, err := s.Cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Cmd.Process.Kill(); <-s.done })

	ready := make(chan struct{})
	go func() {
		s.read(stderr, opts, ready)
		s.err = s.Cmd.Wait()
		close(s.done)
	}()
	wait := opts.Wait
	if wait == 0 {
		wait = 30 * time.Second
	}
	select {
	case <-ready:
		s.URL = "http://" + s.Addr("listening")
	case <-s.done:
		t.Fatalf("rolegate exited before listening: %v\n%s", s.err, s.Logs())
	case <-time.After(wait):
		t.Fatalf("rolegate did not listen within %v\n%s", wait, s.Logs())
	}
	return s
}

// read copies the service log, hands each line to OnLine, and closes ready once every
// listener has logged its address.
func (s *Service) read(r io.Reader, opts Options, ready chan<- struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	signalled := false
	for sc.Scan() {
		line := sc.Bytes()
		s.out.Write(append(append([]byte{}, line...), '\n'))
		if opts.OnLine != nil {
			opts.OnLine(line)
		}
		var entry struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if signalled || json.Unmarshal(line, &entry) != nil || entry.Addr == "" {
			continue
		}
		s.out.mu.Lock()
		s.addrs[entry.Msg] = entry.Addr
		all := true
		for _, l := range opts.Listeners {
			all = all && s.addrs[l] != ""
		}
		s.out.mu.Unlock()
		if all {
			signalled = true
			close(ready)
		}
	}
}

// Addr returns the address the service logged with the message, such as "listening"
// or "envoy ext_authz listening".
func (s *Service) Addr(msg string) string {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	return s.addrs[msg]
}

// Logs returns everything the service wrote so far: the decision log (standard
// output) and the service log (standard error), interleaved as they came.
func (s *Service) Logs() string { return s.out.String() }

// Done is closed when the process has exited; Err is then its exit error.
func (s *Service) Done() <-chan struct{} { return s.done }

// Err is the process's exit error, once Done is closed.
func (s *Service) Err() error { return s.err }

// Kill stops the service at once, as a crash would, and waits until it is gone.
func (s *Service) Kill(t testing.TB) {
	t.Helper()
	_ = s.Cmd.Process.Kill()
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatal("rolegate did not exit within 30s of SIGKILL")
	}
}

// Buffer is a buffer that a process's output and the test may share.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
