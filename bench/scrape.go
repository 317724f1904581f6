package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Go runtime counters every server under test exports on /metrics.
const (
	metricMallocs   = "go_memstats_mallocs_total"
	metricAlloc     = "go_memstats_alloc_bytes_total"
	metricHeapAlloc = "go_memstats_heap_alloc_bytes"
)

// metrics are the samples of one scrape: each metric's name with the sum of its
// series.
type metrics map[string]float64

// scrape reads a Prometheus text exposition.
func scrape(ctx context.Context, url string) (metrics, error) {
	body, err := get(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	return parseMetrics(string(body)), nil
}

// parseMetrics sums each metric's series in a Prometheus text exposition; comments
// and lines it cannot read are skipped.
func parseMetrics(text string) metrics {
	out := make(metrics)
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest := line, ""
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name, rest = line[:i], line[i:]
		}
		if strings.HasPrefix(rest, "{") {
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				continue
			}
			rest = rest[end+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(fields[0], 64); err == nil {
			out[name] += v
		}
	}
	return out
}

// need returns the metric or an error naming it.
func (m metrics) need(name string) (float64, error) {
	v, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("metric %s is not exported", name)
	}
	return v, nil
}

// perRequest returns the growth of counter between two scrapes, per request.
func perRequest(before, after metrics, counter string, requests int64) (float64, error) {
	a, err := before.need(counter)
	if err != nil {
		return 0, err
	}
	b, err := after.need(counter)
	if err != nil {
		return 0, err
	}
	if requests <= 0 {
		return 0, fmt.Errorf("%s per request: no requests", counter)
	}
	return (b - a) / float64(requests), nil
}
