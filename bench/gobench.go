package main

import (
	"context"
	"os"
	"strconv"
	"strings"
)

// goBenchmark is one line of go test -bench output.
type goBenchmark struct {
	Pkg, Name string
	// Metrics maps each unit (ns/op, B/op, allocs/op, ...) to its value.
	Metrics map[string]float64
}

// The Go benchmarks the targets read.
const (
	benchDecide         = "BenchmarkDecide"
	benchDecideUncached = "BenchmarkDecideUncached"
	benchDecisionHTTP   = "BenchmarkDecisionHTTP"
)

// goBenchmarks reads the -gobench file, or runs the decision benchmarks when there
// is none.
func (h *harness) goBenchmarks(context.Context) error {
	var out string
	if h.opts.GoBench != "" {
		raw, err := os.ReadFile(h.opts.GoBench)
		if err != nil {
			return err
		}
		out = string(raw)
	} else {
		var err error
		out, err = command(h.opts.Root, "go", "test", "-run", "^$", "-benchmem",
			"-bench", "^("+benchDecide+"|"+benchDecideUncached+"|"+benchDecisionHTTP+")$",
			"./internal/authz", "./internal/server")
		if err != nil {
			return err
		}
	}
	h.report.GoBench = parseGoBench(out)
	return nil
}

// parseGoBench reads the benchmark lines of go test -bench output, each with the
// package named by the "pkg:" line before it. The -N GOMAXPROCS suffix is dropped.
func parseGoBench(out string) []goBenchmark {
	var list []goBenchmark
	pkg := ""
	for line := range strings.Lines(out) {
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(fields[1], 10, 64); err != nil {
			continue
		}
		b := goBenchmark{Pkg: pkg, Name: trimProcs(fields[0]), Metrics: map[string]float64{}}
		for i := 2; i+1 < len(fields); i += 2 {
			if v, err := strconv.ParseFloat(fields[i], 64); err == nil {
				b.Metrics[fields[i+1]] = v
			}
		}
		list = append(list, b)
	}
	return list
}

// trimProcs drops the -N suffix go test adds for GOMAXPROCS.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// benchmark returns the named benchmark's metric, and whether it was run.
func benchmark(list []goBenchmark, name, unit string) (float64, bool) {
	for _, b := range list {
		if b.Name == name {
			v, ok := b.Metrics[unit]
			return v, ok
		}
	}
	return 0, false
}
