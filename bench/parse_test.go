package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// wrkOutput is what wrk 4.1 prints with the mix script.
const wrkOutput = `Running 10s test @ http://127.0.0.1:41234/v1/decisions
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   512.31us  210.55us   8.10ms   91.20%
    Req/Sec    31.40k     1.20k   33.10k    70.00%
  312345 requests in 10.00s, 120.55MB read
Requests/sec:  31234.10
Transfer/sec:     12.05MB
` + `BENCH {"requests":312345,"duration_us":10000321,"connect":0,"read":0,"write":0,` +
	`"status":0,"timeout":0,"p50_us":480,"p99_us":1210}` + "\n"

func TestParseWrk(t *testing.T) {
	got, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{Requests: 312345, DurationUS: 10000321, P50US: 480, P99US: 1210}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if r := got.rate(); r < 31233 || r > 31235 {
		t.Errorf("rate = %.1f, want 31234", r)
	}
	if err := got.check(); err != nil {
		t.Errorf("check: %v", err)
	}
}

func TestParseWrkFailures(t *testing.T) {
	refused := "Running 10s test\nunable to connect to 127.0.0.1:1 Connection refused\n"
	if _, err := parseWrk(refused); err == nil {
		t.Error("output without a report line parsed")
	}
	r, err := parseWrk(strings.Replace(wrkOutput, `"status":0`, `"status":12`, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.check(); err == nil || !strings.Contains(err.Error(), "status 12") {
		t.Errorf("check = %v, want the 12 failed statuses", err)
	}
	r, _ = parseWrk(strings.Replace(wrkOutput, `"timeout":0`, `"timeout":3`, 1))
	if err := r.check(); err != nil || r.Timeout != 3 {
		t.Errorf("check = %v with %d timeouts; a slow server is a measurement, not a failure", err, r.Timeout)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP go_memstats_mallocs_total Total number of heap objects allocated.
# TYPE go_memstats_mallocs_total counter
go_memstats_mallocs_total 1.234567e+06
go_memstats_alloc_bytes_total 9.87654321e+08
rolegate_http_requests_total{code="200",route="/v1/decisions"} 100
rolegate_http_requests_total{code="400",route="/v1/decisions"} 5
http_request_duration_seconds_bucket{code="200",handler="v1/data",le="+Inf"} 7
weird line
`
	m := parseMetrics(text)
	want := metrics{
		"go_memstats_mallocs_total":            1234567,
		"go_memstats_alloc_bytes_total":        987654321,
		"rolegate_http_requests_total":         105,
		"http_request_duration_seconds_bucket": 7,
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	after := metrics{metricMallocs: 1234567 + 3000}
	if v, err := perRequest(m, after, metricMallocs, 100); err != nil || v != 30 {
		t.Errorf("perRequest = %v, %v; want 30", v, err)
	}
	if _, err := perRequest(m, after, metricAlloc, 100); err == nil {
		t.Error("perRequest of a metric missing after the round gave no error")
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
pkg: github.com/rolegate/rolegate/internal/authz
BenchmarkDecide-2           	 1651987	       725.6 ns/op	     272 B/op	       4 allocs/op
BenchmarkDecideUncached-2   	   16243	     73811 ns/op	   22735 B/op	     482 allocs/op
PASS
pkg: github.com/rolegate/rolegate/internal/membership/redis
BenchmarkCacheMemory/per_user=1-2         	       1	1803417212 ns/op	        89.02 B/membership
BenchmarkUserMemberships/warm-2         	 2000000	       512 ns/op
ok  	github.com/rolegate/rolegate/internal/authz	3.1s
`
	got := parseGoBench(out)
	if len(got) != 4 {
		t.Fatalf("%d benchmarks, want 4: %+v", len(got), got)
	}
	if got[2].Name != "BenchmarkCacheMemory/per_user=1" || got[2].Metrics["B/membership"] != 89.02 ||
		got[2].Pkg != "github.com/rolegate/rolegate/internal/membership/redis" {
		t.Errorf("custom metric line = %+v", got[2])
	}
	if v, ok := benchmark(got, benchDecideUncached, "allocs/op"); !ok || v != 482 {
		t.Errorf("uncached allocs = %v, %v", v, ok)
	}
	if _, ok := benchmark(got, benchDecisionHTTP, "allocs/op"); ok {
		t.Error("a benchmark that did not run was found")
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\trolegate\nVmPeak:\t 1000 kB\nVmRSS:\t   67420 kB\nThreads:\t7\n"
	got, err := parseVmRSS(strings.NewReader(status))
	if err != nil || got != 67420*1024 {
		t.Fatalf("parseVmRSS = %d, %v; want %d", got, err, 67420*1024)
	}
	if _, err := parseVmRSS(strings.NewReader("Name:\tx\n")); err == nil {
		t.Error("a status without VmRSS parsed")
	}
}

func TestParseStatCPU(t *testing.T) {
	stat := "4242 (rolegate serve) S 1 4242 4242 0 -1 4194560 2000 0 0 0 731 269 0 0 20 0 9 0 100 0 0\n"
	got, err := parseStatCPU(stat)
	if err != nil || got != 10*time.Second {
		t.Fatalf("parseStatCPU = %v, %v; want 10s (731 + 269 ticks)", got, err)
	}
	if _, err := parseStatCPU("4242 (x) S 1"); err == nil {
		t.Error("a short stat line parsed")
	}
}

func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		opa        bool
		want       answer
		ok         bool
	}{
		{
			"rolegate", `{"decision_id":"x","allow":true,"reasons":[{"code":"granted","message":"m"}]}`,
			false,
			answer{Allow: true, Codes: []string{"granted"}},
			true,
		},
		{
			"opa, codes sorted",
			`{"result":{"allow":false,"reasons":[{"code":"not_assigned"},{"code":"member_blocked"}]}}`,
			true,
			answer{Codes: []string{"member_blocked", "not_assigned"}},
			true,
		},
		{"opa undefined", `{}`, true, answer{}, false},
		{"no reasons", `{"allow":false,"reasons":[]}`, false, answer{}, false},
		{"error shape", `{"error":{"code":"invalid_request"}}`, false, answer{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseAnswer([]byte(tc.body), tc.opa)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got); tc.ok && diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompareAnswers(t *testing.T) {
	reqs := [][]byte{[]byte("r0"), []byte("r1"), []byte("r2")}
	want := []answer{
		{true, []string{"granted"}}, {false, []string{"no_membership"}}, {false, []string{"a", "b"}},
	}
	got := []answer{{true, []string{"granted"}}, {true, []string{"granted"}}, {false, []string{"a"}}}
	diffs, n := compareAnswers(reqs, want, got)
	if n != 2 || len(diffs) != 2 || !strings.HasPrefix(diffs[0], "r1") || !strings.HasPrefix(diffs[1], "r2") {
		t.Fatalf("compareAnswers = %q, %d", diffs, n)
	}
	if _, n := compareAnswers(reqs, want, want); n != 0 {
		t.Fatalf("equal answers differ %d times", n)
	}
}

func TestStatistics(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		out := make([]time.Duration, len(n))
		for i, v := range n {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		name      string
		got, want time.Duration
	}{
		{"median odd", medianDuration(ms(9, 1, 5)), 5 * time.Millisecond},
		{"median even", medianDuration(ms(4, 1, 3, 2)), 2500 * time.Microsecond},
		{"p50 of 100", percentile(hundred, 50), 50 * time.Millisecond},
		{"p99 of 100", percentile(hundred, 99), 99 * time.Millisecond},
		{"p99 of 3", percentile(ms(1, 2, 3), 99), 3 * time.Millisecond},
		{"p50 of 1", percentile(ms(7), 50), 7 * time.Millisecond},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtCount(1234567.4), "1,234,567"},
		{fmtCount(999), "999"},
		{fmtDur(161039 * time.Nanosecond), "161 µs"},
		{fmtDur(15480 * time.Nanosecond), "15.5 µs"},
		{fmtDur(2920932 * time.Nanosecond), "2.92 ms"},
		{fmtDur(1500 * time.Millisecond), "1.50 s"},
		{fmtBytes(923), "923 B"},
		{fmtBytes(6800), "6.8 KB"},
		{fmtBytes(67.4e6), "67.4 MB"},
		{fmtRatio(31210, 4110), "7.59×"},
		{fmtRatio(1, 0), "–"},
		{fmtFigure(1.224e+05), "122,400"},
		{fmtFigure(89.52), "89.52"},
		{fmtRatio(2.13, 1440), "0.0015×"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestOpenLoopTimeoutsAreMeasurements(t *testing.T) {
	for _, tc := range []struct {
		name    string
		r       vegeta.Result
		timeout bool
	}{
		{"client timeout", vegeta.Result{Error: `Post "http://127.0.0.1:1/x": context deadline exceeded ` +
			`(Client.Timeout exceeded while awaiting headers)`}, true},
		{"refused", vegeta.Result{Error: "dial tcp 127.0.0.1:1: connect: connection refused"}, false},
		{"server error", vegeta.Result{Code: 503, Error: "503 Service Unavailable"}, false},
	} {
		if got := timedOut(&tc.r); got != tc.timeout {
			t.Errorf("%s: timedOut = %v, want %v", tc.name, got, tc.timeout)
		}
	}
	if err := (openResult{Sent: 10, TimedOut: 3}).check(); err != nil {
		t.Errorf("timeouts failed the run: %v", err)
	}
	if err := (openResult{Sent: 10, Failed: 1, FirstFail: "503"}).check(); err == nil {
		t.Error("a failed request passed")
	}
}
