package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rolegate/rolegate/test/opatest"
)

// report is everything one run measured, for the table.
type report struct {
	Opts         options
	Started      time.Time
	Machine      string
	GoVersion    string
	OPAVersion   string
	Command      string
	AllowedShare float64
	Rate         float64
	Servers      []*server
	Heap         *heapResult
	Visibility   *visibilityResult
	GoBench      []goBenchmark
}

func newReport(o options) *report {
	v, err := opatest.PinnedVersion()
	if err != nil {
		v = "unknown (" + err.Error() + ")"
	}
	return &report{
		Opts: o, Started: time.Now().UTC(), Machine: machine(), GoVersion: runtime.Version(),
		OPAVersion: v, Command: "go run ./bench " + strings.Join(os.Args[1:], " "),
	}
}

// summary is one configuration's medians over its rounds.
type summary struct {
	Rate, Allocs, Bytes, RSS float64
	P50, P99, Cold, CPU      time.Duration
	// TimedOut counts the requests of every round that timed out.
	TimedOut int64
}

func summarize(s *server) summary {
	var timedOut int64
	for _, c := range s.Closed {
		timedOut += c.Wrk.Timeout
	}
	for _, o := range s.Open {
		timedOut += int64(o.TimedOut)
	}
	return summary{
		TimedOut: timedOut,
		Rate:     medianOf(s.Closed, func(c closedSample) float64 { return c.Rate }),
		Allocs:   medianOf(s.Closed, func(c closedSample) float64 { return c.Allocs }),
		Bytes:    medianOf(s.Closed, func(c closedSample) float64 { return c.Bytes }),
		RSS:      medianOf(s.Closed, func(c closedSample) float64 { return float64(c.RSS) }),
		P50:      time.Duration(medianOf(s.Open, func(o openSample) float64 { return float64(o.P50) })),
		P99:      time.Duration(medianOf(s.Open, func(o openSample) float64 { return float64(o.P99) })),
		Cold:     medianDuration(s.Cold),
		CPU:      time.Duration(medianOf(s.Closed, func(c closedSample) float64 { return float64(c.CPU) })),
	}
}

// publish prints the report and writes it to the -out file.
func (h *harness) publish(stdout io.Writer) error {
	h.report.Servers = h.servers
	targets := h.report.targets()
	text := h.report.markdown(targets)
	fmt.Fprint(stdout, text)
	for _, t := range targets {
		if t.Verdict == verdictMissed {
			fmt.Fprintf(stdout, "\n!!! TARGET MISSED: %s: %s\n", t.Name, t.Measured)
		}
	}
	if err := os.MkdirAll(filepath.Dir(h.report.Opts.Out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(h.report.Opts.Out, []byte(text), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwritten to %s\n", h.report.Opts.Out)
	return nil
}

// markdown renders the whole report.
func (r *report) markdown(targets []target) string {
	var b strings.Builder
	r.writeHeader(&b)
	r.writeResults(&b)
	r.writeRatios(&b)
	writeTargets(&b, targets)
	r.writeGoBench(&b)
	r.writeRounds(&b)
	r.writeMethod(&b)
	return b.String()
}

func (r *report) writeHeader(b *strings.Builder) {
	o := r.Opts
	fmt.Fprintf(b, "# rolegate beside OPA: benchmark\n\n")
	fmt.Fprintf(b, "- date: %s\n", r.Started.Format(time.RFC3339))
	fmt.Fprintf(b, "- machine: %s\n", r.Machine)
	fmt.Fprintf(b, "- Go %s; OPA %s (the version go.mod pins, built as bench/bin/opa)\n",
		strings.TrimPrefix(r.GoVersion, "go"), r.OPAVersion)
	fmt.Fprintf(b, "- command: `%s`\n", r.Command)
	fmt.Fprintf(b, "- data set: %s users, %s workspaces, %s memberships (seed %d)\n",
		fmtCount(float64(o.Users)), fmtCount(float64(o.Workspaces)), fmtCount(float64(o.Memberships)), o.Seed)
	fmt.Fprintf(b, "- request mix: %s distinct decisions, %.1f %% allowed by OPA; every rolegate "+
		"configuration answered each one as OPA did (allow and reason codes)\n",
		fmtCount(float64(o.Mix)), 100*r.AllowedShare)
	fmt.Fprintf(b, "- %d round(s) of %v per configuration and loop, medians shown; closed loop: wrk, "+
		"%d connections; open loop: vegeta at %s requests/s\n",
		o.Rounds, o.Duration, o.Connections, fmtCount(r.Rate))
	if o.Rounds < 3 {
		fmt.Fprintf(b, "- **only %d round(s): a quick check, not a measurement (use at least 3)**\n", o.Rounds)
	}
	b.WriteString("\n")
}

func (r *report) writeResults(b *strings.Builder) {
	b.WriteString("## Results\n\n")
	b.WriteString("| configuration | decisions/s | p50 | p99 | CPU/decision | allocs/decision | " +
		"bytes/decision | RSS | cold start |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range r.Servers {
		m := summarize(s)
		p99 := fmtDur(m.P99)
		if m.TimedOut > 0 {
			p99 += fmt.Sprintf(" (%s requests timed out)", fmtCount(float64(m.TimedOut)))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %.0f | %s | %s | %s |\n", s.Name, fmtCount(m.Rate),
			fmtDur(m.P50), p99, fmtDur(m.CPU), m.Allocs, fmtBytes(m.Bytes), fmtBytes(m.RSS), fmtDur(m.Cold))
	}
	b.WriteString("\np50 and p99 are the open loop's, at the same fixed rate for every configuration. " +
		"CPU/decision is the server's CPU time over the closed loop per decision: it moves less than " +
		"decisions/s when other programs share the machine, though their use of the caches " +
		"still moves it.\n\n")
}

// ratioRows are the ratio table's rows: each metric with whether more is better.
var ratioRows = []struct {
	name   string
	value  func(summary) float64
	better string
}{
	{"decisions/s", func(m summary) float64 { return m.Rate }, "higher"},
	{"CPU/decision", func(m summary) float64 { return float64(m.CPU) }, "lower"},
	{"p50", func(m summary) float64 { return float64(m.P50) }, "lower"},
	{"p99", func(m summary) float64 { return float64(m.P99) }, "lower"},
	{"allocs/decision", func(m summary) float64 { return m.Allocs }, "lower"},
	{"bytes/decision", func(m summary) float64 { return m.Bytes }, "lower"},
	{"RSS", func(m summary) float64 { return m.RSS }, "lower"},
	{"cold start", func(m summary) float64 { return float64(m.Cold) }, "lower"},
}

func (r *report) writeRatios(b *strings.Builder) {
	opa, gin := summarize(find(r.Servers, keyOPA)), summarize(find(r.Servers, keyCeiling))
	var rolegate []*server
	b.WriteString("## rolegate ÷ OPA and rolegate ÷ bare Gin\n\n| metric (better) |")
	for _, s := range r.Servers {
		if s.Kind == kindRolegate {
			rolegate = append(rolegate, s)
			fmt.Fprintf(b, " %s ÷ OPA | ÷ Gin |", strings.TrimPrefix(s.Name, "rolegate, "))
		}
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: | ---: |", len(rolegate)) + "\n")
	summaries := make([]summary, len(rolegate))
	for i, s := range rolegate {
		summaries[i] = summarize(s)
	}
	for _, row := range ratioRows {
		fmt.Fprintf(b, "| %s (%s) |", row.name, row.better)
		for _, m := range summaries {
			v := row.value(m)
			fmt.Fprintf(b, " %s | %s |", fmtRatio(v, row.value(opa)), fmtRatio(v, row.value(gin)))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func (r *report) writeGoBench(b *strings.Builder) {
	if len(r.GoBench) == 0 {
		return
	}
	b.WriteString("## Go benchmarks\n\n| package | benchmark | ns/op | B/op | allocs/op | other |\n")
	b.WriteString("| --- | --- | ---: | ---: | ---: | --- |\n")
	for _, g := range r.GoBench {
		var other []string
		for _, unit := range slices.Sorted(maps.Keys(g.Metrics)) {
			if unit != "ns/op" && unit != "B/op" && unit != "allocs/op" {
				other = append(other, fmtFigure(g.Metrics[unit])+" "+unit)
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(g.Pkg, modulePath+"/"),
			g.Name, metric(g, "ns/op"), metric(g, "B/op"), metric(g, "allocs/op"), strings.Join(other, ", "))
	}
	b.WriteString("\n")
}

// modulePath is this module's path, left out of package names in the table.
const modulePath = "github.com/rolegate/rolegate"

func metric(g goBenchmark, unit string) string {
	v, ok := g.Metrics[unit]
	if !ok {
		return ""
	}
	return fmtFigure(v)
}

// fmtFigure writes a benchmark's figure: whole numbers with separators from 1,000 on,
// four significant digits below.
func fmtFigure(v float64) string {
	if v >= 1000 {
		return fmtCount(v)
	}
	return fmt.Sprintf("%.4g", v)
}

func (r *report) writeRounds(b *strings.Builder) {
	b.WriteString("## Every round\n\n| configuration | decisions/s | open-loop p99 | cold starts |\n")
	b.WriteString("| --- | --- | --- | --- |\n")
	for _, s := range r.Servers {
		var rates, p99s, colds []string
		for _, c := range s.Closed {
			rates = append(rates, fmtCount(c.Rate))
		}
		for _, o := range s.Open {
			p99s = append(p99s, fmtDur(o.P99))
		}
		for _, c := range s.Cold {
			colds = append(colds, fmtDur(c))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", s.Name,
			strings.Join(rates, ", "), strings.Join(p99s, ", "), strings.Join(colds, ", "))
	}
	b.WriteString("\n")
}
