//go:build soak

package soak

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rolegate/rolegate/test/servetest"
)

// repoRoot is the repository's top folder, the working directory of every process.
const repoRoot = "../.."

// Settings of a run, as flags (go test -args -soak.duration=10s) or, for make soak,
// environment variables.
var (
	duration = flag.Duration("soak.duration", envDuration("SOAK_DURATION", 60*time.Second),
		"length of the sustained load ($SOAK_DURATION)")
	rate = flag.Int("soak.rate", envInt("SOAK_RATE", 300),
		"decisions per second the load sends ($SOAK_RATE)")
	fuzzTime = flag.Duration("soak.fuzztime", envDuration("SOAK_FUZZTIME", 30*time.Second),
		"time each fuzz target runs ($SOAK_FUZZTIME)")
	resultsFile = flag.String("soak.results", envString("SOAK_RESULTS", "results/latest.md"),
		"where the summary table is written, relative to test/soak ($SOAK_RESULTS)")
)

// binary is the rolegate executable built for this run.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	bin, cleanup, err := servetest.Build(repoRoot)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = bin
	started, load := time.Now(), loadAverage()
	code := m.Run()
	cleanup()
	summary.machine = fmt.Sprintf("load average %s at the start, %s at the end", load, loadAverage())
	if err := summary.report(os.Stdout, *resultsFile, time.Since(started)); err != nil {
		fmt.Fprintln(os.Stderr, "soak: write summary:", err)
		code = 1
	}
	if summary.failed() && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// loadAverage returns the machine's load average over the last minute: the figures
// of a busy machine are not those of an idle one.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	one, _, _ := strings.Cut(string(b), " ")
	return one
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
