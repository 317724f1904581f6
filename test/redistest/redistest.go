// Package redistest starts throwaway redis-server processes for tests: a single server
// on a free port or a unix socket, a three-master Redis Cluster, and a TCP proxy that
// delays or black-holes traffic. Servers can be killed, paused and restarted in place.
// A machine without redis-server fails the test with a message saying what to install;
// nothing here ever touches a Redis the test did not start.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// readyTimeout bounds how long a server may take to answer PING after it starts.
const readyTimeout = 15 * time.Second

// Options shape a server.
type Options struct {
	// AppendOnly turns on the append-only file with appendfsync always, so that an
	// acknowledged write survives kill -9. Without it the server persists nothing.
	AppendOnly bool
	// Socket makes the server listen on a unix socket in its directory instead of
	// a TCP port.
	Socket bool
	// Args are further redis-server arguments, such as "--requirepass", "secret".
	Args []string
}

// Server is one redis-server process. Its port or socket and its directory stay the
// same across Restart.
type Server struct {
	// Addr is host:port; empty for a socket server.
	Addr string
	// Socket is the unix socket's path; empty for a TCP server.
	Socket string
	// Dir is the server's working directory, with its log and any persistence files.
	Dir string

	t    testing.TB
	args []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Binary returns the path of the program, or fails the test naming what to install.
func Binary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("redistest: %s is not installed, and the Redis tests need it: install the "+
			"Debian package redis-server (redis-tools for redis-cli), or run make test, which "+
			"installs them", name)
	}
	return path
}

// Start starts a server for the test; the test's cleanup kills it and removes its
// directory.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	var lastErr error
	for range 5 {
		s, err := start(t, opts)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("redistest: start redis-server: %v", lastErr)
	return nil
}

func start(t testing.TB, opts Options) (*Server, error) {
	t.Helper()
	bin := Binary(t, "redis-server")
	// A short path under the system temp folder: a unix socket path has a length limit.
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, t: t}
	if s.args, err = s.arguments(opts); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.launch(bin); err != nil {
		s.kill()
		os.RemoveAll(dir)
		return nil, err
	}
	t.Cleanup(func() {
		s.kill()
		os.RemoveAll(dir)
	})
	return s, nil
}

func (s *Server) arguments(opts Options) ([]string, error) {
	args := []string{
		"--bind", "127.0.0.1", "--dir", s.Dir, "--logfile", filepath.Join(s.Dir, "redis.log"),
		"--daemonize", "no", "--save", "", "--appendonly", "no",
	}
	if opts.Socket {
		s.Socket = filepath.Join(s.Dir, "redis.sock")
		args = append(args, "--port", "0", "--unixsocket", s.Socket, "--unixsocketperm", "700")
	} else {
		port, err := FreePort()
		if err != nil {
			return nil, err
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		args = append(args, "--port", strconv.Itoa(port))
	}
	if opts.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	}
	return append(args, opts.Args...), nil
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on at the moment.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the process and waits until it answers PING.
func (s *Server) launch(bin string) error {
	cmd := exec.Command(bin, s.args...)
	cmd.Dir = s.Dir
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return s.waitReady(exited)
}

func (s *Server) waitReady(exited <-chan struct{}) error {
	c := goredis.NewClient(s.Options())
	defer c.Close()
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		switch {
		case err == nil:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("no answer after %v: %w\n%s", readyTimeout, err, s.LogTail())
		}
		select {
		case <-exited:
			return fmt.Errorf("%w:\n%s", errExitedAtStart, s.LogTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// LogTail returns the last lines of the server's log.
func (s *Server) LogTail() string {
	b, err := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-15):], "\n")
}

// URL returns the server's address as a Redis URL: redis://host:port/0 or
// unix:///path?db=0.
func (s *Server) URL() string {
	if s.Socket != "" {
		return "unix://" + s.Socket + "?db=0"
	}
	return "redis://" + s.Addr + "/0"
}

// Options returns go-redis client options for the server, with short timeouts.
func (s *Server) Options() *goredis.Options {
	o := &goredis.Options{
		Addr: s.Addr, DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1,
		ContextTimeoutEnabled: true,
	}
	if s.Socket != "" {
		o.Network, o.Addr = "unix", s.Socket
	}
	return o
}

// Client returns a go-redis client of the server, closed by the test's cleanup.
func (s *Server) Client(t testing.TB) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(s.Options())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Kill sends SIGKILL and waits until the process is gone.
func (s *Server) Kill() { s.kill() }

func (s *Server) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// Pause stops the process with SIGSTOP: connections stay open and nothing answers.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused process with SIGCONT.
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("redistest: signal %v: %v", sig, err)
	}
}

// Restart kills the server if it runs and starts it again on the same port or socket
// and directory, so it reloads whatever it persisted.
func (s *Server) Restart() {
	s.t.Helper()
	s.kill()
	var err error
	for range 50 {
		if err = s.launch(Binary(s.t, "redis-server")); err == nil {
			return
		}
		if !errors.Is(err, errExitedAtStart) {
			break
		}
		time.Sleep(100 * time.Millisecond) // the port may be held a moment longer
	}
	s.t.Fatalf("redistest: restart redis-server: %v", err)
}

var errExitedAtStart = errors.New("redis-server exited at start")
