package redistest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// StartSentinel starts a Redis Sentinel that monitors master under the name given,
// with a quorum of one; the test's cleanup kills it.
func StartSentinel(t testing.TB, master *Server, name string) *Server {
	t.Helper()
	bin := Binary(t, "redis-server")
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	host, masterPort, err := net.SplitHostPort(master.Addr)
	if err != nil {
		t.Fatalf("redistest: a sentinel needs a TCP master: %v", err)
	}
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor %s %s %s 1\n",
		port, dir, filepath.Join(dir, "redis.log"), name, host, masterPort)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, t: t,
		args: []string{conf, "--sentinel"},
	}
	t.Cleanup(s.kill)
	if err := s.launch(bin); err != nil {
		t.Fatalf("redistest: start sentinel: %v", err)
	}
	return s
}
