package main

import (
	"fmt"
	"strings"
	"time"
)

// verdict is a target's outcome.
type verdict string

const (
	verdictPass   verdict = "pass"
	verdictMissed verdict = "**MISSED**"
	verdictNA     verdict = "n/a"
)

// Targets of issue 7.
const (
	targetRateOverOPA     = 2.0
	targetRateOfCeiling   = 0.6
	targetP99OfOPA        = 0.5
	targetInProcessAllocs = 110
	targetHTTPAllocs      = 150
	targetHTTPBytes       = 10_000
	targetCacheHeap       = 100e6
	targetColdStart       = 2 * time.Second
	targetSameReplica     = time.Millisecond
	targetOtherReplica    = 100 * time.Millisecond
	// largeMemberships is the data set size the memory and cold start targets are for.
	largeMemberships = 1_000_000
)

// target is one target with what was measured.
type target struct {
	Name, Measured string
	Verdict        verdict
}

func judge(ok bool) verdict {
	if ok {
		return verdictPass
	}
	return verdictMissed
}

// targets judges every target on this run's figures.
func (r *report) targets() []target {
	var out []target
	out = append(out, r.throughputTargets()...)
	out = append(out, r.allocTargets()...)
	out = append(out, r.largeTargets()...)
	return append(out, r.visibilityTargets()...)
}

func (r *report) throughputTargets() []target {
	warm := summarize(find(r.Servers, keyWarm))
	opa, gin := summarize(find(r.Servers, keyOPA)), summarize(find(r.Servers, keyCeiling))
	return []target{{
		Name: "decisions/s with a warm near cache ≥ 2× OPA's",
		Measured: fmt.Sprintf("%s (%s vs %s); by CPU time per decision %s", fmtRatio(warm.Rate, opa.Rate),
			fmtCount(warm.Rate), fmtCount(opa.Rate), fmtRatio(float64(opa.CPU), float64(warm.CPU))),
		Verdict: judge(warm.Rate >= targetRateOverOPA*opa.Rate),
	}, {
		Name: "decisions/s with a warm near cache ≥ 60 % of bare Gin's",
		Measured: fmt.Sprintf("%.0f %% (%s vs %s); by CPU time per decision %.0f %% (%s vs %s)",
			100*warm.Rate/gin.Rate, fmtCount(warm.Rate), fmtCount(gin.Rate),
			100*float64(gin.CPU)/float64(warm.CPU), fmtDur(warm.CPU), fmtDur(gin.CPU)),
		Verdict: judge(warm.Rate >= targetRateOfCeiling*gin.Rate),
	}, {
		Name: fmt.Sprintf("open-loop p99 at %s/s with a warm near cache ≤ ½ OPA's", fmtCount(r.Rate)),
		Measured: fmt.Sprintf("%s (%s vs %s)", fmtRatio(float64(warm.P99), float64(opa.P99)),
			fmtDur(warm.P99), fmtDur(opa.P99)),
		Verdict: judge(float64(warm.P99) <= targetP99OfOPA*float64(opa.P99)),
	}}
}

func (r *report) allocTargets() []target {
	cached, okC := benchmark(r.GoBench, benchDecide, "allocs/op")
	uncached, okU := benchmark(r.GoBench, benchDecideUncached, "allocs/op")
	httpAllocs, okA := benchmark(r.GoBench, benchDecisionHTTP, "allocs/op")
	httpBytes, okB := benchmark(r.GoBench, benchDecisionHTTP, "B/op")
	warm := summarize(find(r.Servers, keyWarm))
	out := []target{{
		Name: "one in-process decision ≤ 110 allocations (BenchmarkDecide)",
		Measured: fmt.Sprintf("%.0f; with the decision cache off %.0f (BenchmarkDecideUncached)",
			cached, uncached),
		Verdict: judgeIf(okC && okU, cached <= targetInProcessAllocs),
	}, {
		Name:     "one decision through the HTTP handler ≤ 150 allocations and 10 KB (BenchmarkDecisionHTTP)",
		Measured: fmt.Sprintf("%.0f allocations, %s", httpAllocs, fmtBytes(httpBytes)),
		Verdict:  judgeIf(okA && okB, httpAllocs <= targetHTTPAllocs && httpBytes <= targetHTTPBytes),
	}, {
		Name: "one served decision ≤ 150 allocations and 10 KB " +
			"(warm near cache, server's runtime counters)",
		Measured: fmt.Sprintf("%.0f allocations, %s", warm.Allocs, fmtBytes(warm.Bytes)),
		Verdict:  judge(warm.Allocs <= targetHTTPAllocs && warm.Bytes <= targetHTTPBytes),
	}}
	return out
}

// judgeIf judges ok when the figures were measured, else n/a.
func judgeIf(measured, ok bool) verdict {
	if !measured {
		return verdictNA
	}
	return judge(ok)
}

func (r *report) largeTargets() []target {
	large := r.Opts.Memberships >= largeMemberships
	note := ""
	if !large {
		note = fmt.Sprintf(" (the target is for 1,000,000 memberships; this run has %s: make bench-large)",
			fmtCount(float64(r.Opts.Memberships)))
	}
	var out []target
	if h := r.Heap; h != nil {
		out = append(out, target{
			Name: "near cache live heap with every user cached ≤ 100 MB",
			Measured: fmt.Sprintf("%s for %s memberships of %s users%s", fmtBytes(h.Growth()),
				fmtCount(float64(h.Memberships)), fmtCount(float64(h.Users)), note),
			Verdict: judgeIf(large, h.Growth() <= targetCacheHeap),
		})
	}
	for _, key := range []string{keyWarm, keyEmbedded} {
		s, opa := find(r.Servers, key), summarize(find(r.Servers, keyOPA))
		cold := summarize(s).Cold
		out = append(out, target{
			Name: fmt.Sprintf("cold start to first decision ≤ 2 s (%s)", s.Name),
			Measured: fmt.Sprintf("%s; OPA %s, RSS %s%s",
				fmtDur(cold), fmtDur(opa.Cold), fmtBytes(opa.RSS), note),
			Verdict: judgeIf(large, cold <= targetColdStart),
		})
	}
	return out
}

func (r *report) visibilityTargets() []target {
	v := r.Visibility
	if v == nil {
		return nil
	}
	desc := func(ds []time.Duration) string {
		return fmt.Sprintf("p50 %s, p99 %s, max %s over %d writes", fmtDur(percentile(ds, 50)),
			fmtDur(percentile(ds, 99)), fmtDur(ds[len(ds)-1]), len(ds))
	}
	return []target{{
		Name: "a write visible on the replica that took it ≤ 1 ms after its acknowledgement (p99)",
		Measured: fmt.Sprintf("%s; the first decision asked after the acknowledgement saw it in %d of %d",
			desc(v.Same), v.FirstAsk, v.Writes),
		Verdict: judge(percentile(v.Same, 99) <= targetSameReplica),
	}, {
		Name:     "a write visible on another replica ≤ 100 ms after its acknowledgement (p99)",
		Measured: desc(v.Other),
		Verdict:  judge(percentile(v.Other, 99) <= targetOtherReplica),
	}}
}

func writeTargets(b *strings.Builder, targets []target) {
	b.WriteString("## Targets\n\n| target | measured | |\n| --- | --- | --- |\n")
	for _, t := range targets {
		fmt.Fprintf(b, "| %s | %s | %s |\n", t.Name, t.Measured, t.Verdict)
	}
	b.WriteString("\n")
}
