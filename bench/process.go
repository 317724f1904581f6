package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/rolegate/rolegate/test/servetest"
)

// process is a server under test, or a helper such as redis-server, run on one core.
type process struct {
	name    string
	cmd     *exec.Cmd
	out     *servetest.Buffer
	exited  chan struct{}
	started time.Time
}

// launch starts argv pinned to cpu with taskset (which execs the program, so the
// process id is the program's) and with GOMAXPROCS=1. The environment is this
// one's without ROLEGATE_ variables, so that nothing outside the harness configures
// the servers.
func launch(name string, cpu int, argv []string, dir string) (*process, error) {
	args := append([]string{"-c", strconv.Itoa(cpu)}, argv...)
	p := &process{name: name, out: &servetest.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command("taskset", args...)
	p.cmd.Dir = dir
	p.cmd.Env = serverEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ROLEGATE_") && !strings.HasPrefix(kv, "GOMAXPROCS=") {
			env = append(env, kv)
		}
	}
	return append(env, "GOMAXPROCS=1")
}

// stop kills the process and waits for it.
func (p *process) stop() {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// failure describes a process that misbehaved, with the end of its output.
func (p *process) failure(err error) error {
	out := p.out.String()
	if len(out) > 2000 {
		out = "..." + out[len(out)-2000:]
	}
	return fmt.Errorf("%s: %w\n%s", p.name, err, out)
}

// rss returns the process's resident memory (VmRSS) in bytes.
func (p *process) rss() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("%s: read rss: %w", p.name, err)
	}
	defer f.Close()
	return parseVmRSS(f)
}

// clockTicks is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on Linux).
const clockTicks = 100

// cpuTime returns the CPU time the process has used, user and system.
func (p *process) cpuTime() (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("%s: read cpu time: %w", p.name, err)
	}
	return parseStatCPU(string(raw))
}

// parseStatCPU reads utime and stime from a /proc/PID/stat line. The command name,
// in parentheses, may hold spaces, so fields are counted after its closing one.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	fields := strings.Fields(stat[i+1:])
	if i < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("unexpected /proc/PID/stat: %.80q", stat)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime and stime, fields 14 and 15 of the line
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc/PID/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// parseVmRSS reads the VmRSS line of a /proc/PID/status file.
func parseVmRSS(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse VmRSS %q: %w", rest, err)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("no VmRSS line")
}

// firstDecision sends body to url until a decision comes back (status 200 and an
// allow field) and returns the time from the process's start: its cold start.
func (p *process) firstDecision(url string, body []byte, timeout time.Duration) (time.Duration, error) {
	client := &http.Client{Timeout: timeout}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err == nil {
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(got, []byte(`"allow"`)) {
				return time.Since(p.started), nil
			}
			err = fmt.Errorf("%s: %s", resp.Status, got)
		}
		select {
		case <-p.exited:
			return 0, p.failure(fmt.Errorf("exited before its first decision: %v", p.cmd.ProcessState))
		default:
		}
		if time.Now().After(deadline) {
			return 0, p.failure(fmt.Errorf("no decision within %v: %w", timeout, err))
		}
		time.Sleep(time.Millisecond)
	}
}

// get fetches url and returns its body, failing on a status other than 200.
func get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", url, resp.Status)
	}
	return body, nil
}
