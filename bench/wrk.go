package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
)

// mixScript is wrk's Lua script: it cycles through the request mix.
//
//go:embed mix.lua
var mixScript []byte

// wrkResult is what wrk's run reports through the script's done function.
type wrkResult struct {
	Requests   int64 `json:"requests"`
	DurationUS int64 `json:"duration_us"`
	Connect    int64 `json:"connect"`
	Read       int64 `json:"read"`
	Write      int64 `json:"write"`
	// Status counts responses other than 2xx and 3xx.
	Status  int64 `json:"status"`
	Timeout int64 `json:"timeout"`
	P50US   int64 `json:"p50_us"`
	P99US   int64 `json:"p99_us"`
}

// rate is the completed requests per second.
func (r wrkResult) rate() float64 {
	if r.DurationUS <= 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

// check reports a run with failed requests: the server answered errors, or the
// connections failed, so its figures measure something else than decisions. Requests
// that timed out are a measurement of a slow server, reported in the table.
func (r wrkResult) check() error {
	if r.Requests == 0 {
		return errors.New("wrk completed no request")
	}
	if n := r.Connect + r.Read + r.Write + r.Status; n > 0 {
		return fmt.Errorf("wrk: %d of %d requests failed (connect %d, read %d, write %d, status %d)",
			n, r.Requests, r.Connect, r.Read, r.Write, r.Status)
	}
	return nil
}

// wrkLoad is one closed-loop run.
type wrkLoad struct {
	CPU         int
	Connections int
	Duration    time.Duration
	URL         string
	// Bodies is a file of request bodies, one a line.
	Bodies string
	// Script is where the Lua script is written.
	Script string
}

// args are wrk's arguments: one thread (it has one core), the connections, and the
// script with the bodies file as its argument.
func (l wrkLoad) args() []string {
	return []string{
		"-c", strconv.Itoa(l.CPU), "wrk", "-t1", "-c", strconv.Itoa(l.Connections),
		"-d", fmt.Sprintf("%ds", int(l.Duration.Round(time.Second)/time.Second)),
		"--timeout", "5s", "-s", l.Script, l.URL, "--", l.Bodies,
	}
}

// runWrk runs wrk pinned to its core and returns its report.
func runWrk(ctx context.Context, l wrkLoad) (wrkResult, error) {
	if err := os.WriteFile(l.Script, mixScript, 0o644); err != nil {
		return wrkResult{}, err
	}
	cmd := exec.CommandContext(ctx, "taskset", l.args()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		return r, err
	}
	return r, r.check()
}

// parseWrk finds the script's report line in wrk's output.
func parseWrk(out string) (wrkResult, error) {
	for line := range strings.Lines(out) {
		raw, ok := strings.CutPrefix(strings.TrimSpace(line), "BENCH ")
		if !ok {
			continue
		}
		var r wrkResult
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			return r, fmt.Errorf("wrk report %q: %w", raw, err)
		}
		return r, nil
	}
	return wrkResult{}, fmt.Errorf("wrk printed no report line:\n%s", out)
}
