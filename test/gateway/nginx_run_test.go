package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/rolegate/rolegate/test/servetest"
)

// nginxTemplate holds the two templates of testdata/nginx.conf.tmpl: "gateway", the
// part docs/gateways.md shows, and "nginx.conf", the file nginx runs with.
var nginxTemplate = template.Must(template.ParseFiles("testdata/nginx.conf.tmpl"))

// nginxParams fill the templates.
type nginxParams struct {
	// Listen is nginx's listen address; Rolegate and Backend are the host:port of
	// rolegate's HTTP API and of the upstream.
	Listen, Rolegate, Backend string
	// Prefix is nginx's prefix directory, which holds every file it writes.
	Prefix string
	// Gateway is the rendered "gateway" part, indented for the http block.
	Gateway string
}

// render executes the named template with p.
func render(name string, p nginxParams) (string, error) {
	var b strings.Builder
	if err := nginxTemplate.ExecuteTemplate(&b, name, p); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return b.String(), nil
}

// nginxConf renders the whole nginx.conf for p.
func nginxConf(p nginxParams) (string, error) {
	gw, err := render("gateway", p)
	if err != nil {
		return "", err
	}
	lines := strings.Split(gw, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	p.Gateway = strings.Join(lines, "\n")
	return render("nginx.conf", p)
}

// nginxPaths are where Debian and nginx's own builds install nginx, for a PATH that
// lacks the sbin directories (a non-root user's, on Debian).
var nginxPaths = []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"}

// findNginx returns the nginx executable or fails the test saying how to get one.
func findNginx(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, p := range nginxPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("nginx is not installed (not on PATH nor at %s): the gateway tests need "+
		"Debian's nginx package; `make test` installs it, or run apt-get install nginx",
		strings.Join(nginxPaths, ", "))
	return ""
}

// nginx is a running nginx: a master and one worker in the foreground, in their own
// process group, with every file they write under their prefix directory.
type nginx struct {
	cmd    *exec.Cmd
	addr   string
	stderr servetest.Buffer // nginx's error log
	done   chan struct{}
}

// startNginx runs the nginx executable bin with the test's configuration in front of
// backend, asking rolegate, on a free loopback port; it is stopped when the test ends.
func startNginx(t *testing.T, bin, rolegate, backend string) *nginx {
	t.Helper()
	prefix := t.TempDir()
	openToWorkers(t, prefix)
	for attempt := 1; ; attempt++ {
		n, err := launchNginx(t, bin, nginxParams{
			Listen: freeAddr(t), Rolegate: rolegate, Backend: backend, Prefix: prefix,
		})
		if err == nil {
			return n
		}
		// Another process may take the port between freePort and nginx's bind.
		if attempt == 3 || !strings.Contains(err.Error(), "Address already in use") {
			t.Fatal(err)
		}
	}
}

// launchNginx writes the configuration, starts nginx and waits until it answers.
func launchNginx(t *testing.T, bin string, p nginxParams) (*nginx, error) {
	t.Helper()
	conf, err := nginxConf(p)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(p.Prefix, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	n := &nginx{addr: p.Listen, done: make(chan struct{})}
	n.cmd = exec.Command(bin, "-p", p.Prefix, "-c", path, "-e", "stderr")
	n.cmd.Stdout, n.cmd.Stderr = &n.stderr, &n.stderr
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nginx: %w", err)
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	if err := n.waitReady(30 * time.Second); err != nil {
		n.stop(t)
		return nil, err
	}
	t.Cleanup(func() { n.stop(t) })
	return n, nil
}

// waitReady polls until nginx itself answers on its port, it exits, or the time is up.
func (n *nginx) waitReady(limit time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.After(limit)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		// Outside /api/: nginx answers 404 without asking rolegate.
		resp, err := client.Get("http://" + n.addr + "/ready")
		if err == nil {
			resp.Body.Close()
			if strings.HasPrefix(resp.Header.Get("Server"), "nginx") {
				return nil
			}
		}
		select {
		case <-n.done:
			return fmt.Errorf("nginx exited before answering on %s:\n%s", n.addr, n.stderr.String())
		case <-deadline:
			return fmt.Errorf("nginx did not answer on %s within %s:\n%s", n.addr, limit, n.stderr.String())
		case <-tick.C:
		}
	}
}

// stop asks nginx for a fast shutdown (the master stops its workers), and kills the
// process group when that takes too long.
func (n *nginx) stop(t *testing.T) {
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
		return
	case <-time.After(20 * time.Second):
	}
	_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	<-n.done
	t.Errorf("nginx did not stop within 20s of SIGTERM; killed its process group\n%s", n.stderr.String())
}

// openToWorkers lets nginx's workers reach prefix. As root, nginx runs them as an
// unprivileged user (nobody, the package's built-in default), which must traverse the
// test's temporary directories (0700) to write its temporary files (the master creates
// them under prefix and hands them to that user).
func openToWorkers(t *testing.T, prefix string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	root := filepath.Clean(os.TempDir()) + string(filepath.Separator)
	for d := prefix; strings.HasPrefix(d, root); d = filepath.Dir(d) {
		info, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, info.Mode().Perm()|0o011); err != nil {
			t.Fatal(err)
		}
	}
}

// answer is what a client got back.
type answer struct {
	status int
	header http.Header
	body   string
}

// send makes one request to addr with the request target exactly as given: the
// client neither cleans nor re-encodes it.
func send(t *testing.T, addr, method, target string, header http.Header, body []byte) answer {
	t.Helper()
	path, query, _ := strings.Cut(target, "?")
	req, err := http.NewRequest(method, "http://"+addr+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL.Opaque, req.URL.RawQuery = path, query
	for k, vs := range header {
		req.Header[k] = vs
	}
	client := &http.Client{
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(out)}
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := servetest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}
