//go:build soak

package soak

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// summary collects one row per soak item for the table printed at the end.
var summary collector

type collector struct {
	mu   sync.Mutex
	rows []*row
	// machine says how busy the machine was, for the table's heading.
	machine string
}

// row is one line of the summary table.
type row struct {
	test, load, faults string
	figures            []string
	pass               bool
}

// item is a soak item's row, written to as the test goes.
type item struct {
	c *collector
	r *row
}

// begin adds the test's row. The row passes when the test ends without failing; a
// test that stops early still shows, as failed, with the figures it had.
func begin(t *testing.T, load, faults string) *item {
	t.Helper()
	r := &row{test: t.Name(), load: load, faults: faults}
	summary.mu.Lock()
	summary.rows = append(summary.rows, r)
	summary.mu.Unlock()
	t.Cleanup(func() {
		summary.mu.Lock()
		defer summary.mu.Unlock()
		r.pass = !t.Failed()
	})
	return &item{c: &summary, r: r}
}

// figure adds a figure to the row and logs it.
func (it *item) figure(t *testing.T, format string, args ...any) {
	t.Helper()
	s := fmt.Sprintf(format, args...)
	t.Log(s)
	it.c.mu.Lock()
	it.r.figures = append(it.r.figures, s)
	it.c.mu.Unlock()
}

// check fails the test with the message when ok is false, and adds the message to
// the row's figures either way, marked when it failed.
func (it *item) check(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if ok {
		it.figure(t, format, args...)
		return
	}
	s := fmt.Sprintf(format, args...)
	it.c.mu.Lock()
	it.r.figures = append(it.r.figures, "**FAILED: "+s+"**")
	it.c.mu.Unlock()
	t.Error(s)
}

// rank is the test's place in order; tests not listed come last.
func rank(test string) int {
	if i := slices.Index(order, test); i >= 0 {
		return i
	}
	return len(order)
}

func (c *collector) failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.rows {
		if !r.pass {
			return true
		}
	}
	return false
}

// report prints the table and writes it to path (relative to this folder).
func (c *collector) report(w io.Writer, path string, took time.Duration) error {
	table := c.table(took)
	fmt.Fprintf(w, "\n%s\n", table)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(table), 0o644)
}

// order is the order of the rows: the items of issue 8, as docs/reliability.md
// lists them.
var order = []string{
	"TestSustainedLoad", "TestRedisKilled", "TestRedisSlow", "TestBundleServiceFaults", "TestFuzz",
	"TestAcknowledgedWritesSurviveKill9",
}

func (c *collector) table(took time.Duration) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	slices.SortStableFunc(c.rows, func(a, b *row) int {
		return cmp.Compare(rank(a.test), rank(b.test))
	})
	var b strings.Builder
	fmt.Fprintf(&b, "make soak, %s, %s/%s, %d CPUs, %s, took %s\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(),
		c.machine, took.Round(time.Second))
	b.WriteString("| test | load | faults | figures | result |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range c.rows {
		result := "pass"
		if !r.pass {
			result = "**FAIL**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.test, r.load, r.faults,
			strings.Join(r.figures, "; "), result)
	}
	return b.String()
}
