package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func (r *report) writeMethod(b *strings.Builder) {
	o := r.Opts
	b.WriteString("## How it was measured\n\n")
	fmt.Fprintf(b, "- Each server runs alone on core %d (`taskset -c %d`, `GOMAXPROCS=1`); wrk (one thread), "+
		"the harness with vegeta, and redis-server share core %d. Every configuration runs once per round, "+
		"in an order that rotates from round to round, each in a fresh process; medians of the rounds.\n",
		o.ServerCPU, o.ServerCPU, o.LoadCPU)
	b.WriteString("- rolegate: `decision_log: off`, log level warn, the policy bundle built by " +
		"`rolegate bundle build policies`; memberships from the data file (embedded store) or imported " +
		"into Redis by `rolegate members import`. OPA: `opa run --server --log-level error` with its " +
		"defaults (no decision logs) on the same policy bundle and `rolegate bundle data` of the same " +
		"data file. Neither logs per request, so logging is not what is measured.\n")
	b.WriteString("- rolegate is asked `POST /v1/decisions`; OPA `POST /v1/data/rolegate/authz/decision` " +
		"with `{\"input\": ...}`; the bare Gin endpoint reads the body and returns a constant decision.\n")
	b.WriteString("- The mix repeats its distinct decisions. rolegate's decision cache (keyed by the " +
		"request and every fact, per policy revision; decisions that read the clock are not kept) " +
		"answers repeats; OPA has none. BenchmarkDecideUncached shows one evaluation without it.\n")
	b.WriteString("- decisions/s: wrk's closed loop over the mix. p50/p99: vegeta's open loop at a fixed " +
		"rate (half of OPA's median decisions/s unless -rate is given), exact percentiles of every " +
		"request's latency. Allocations and bytes per decision: growth of `go_memstats_mallocs_total` " +
		"and `go_memstats_alloc_bytes_total` on the server's /metrics over the closed loop, divided by " +
		"its requests. RSS: VmRSS after the closed loop. Cold start: from exec to the first decision " +
		"answered, every start of the rounds.\n")
	b.WriteString("- Near cache heap: rolegate over Redis with `debug_addr`; the heap in use right after a " +
		"collection (`/debug/pprof/heap?gc=1`), before and after one decision per user that the " +
		"decision cache keeps none of (it reads the clock), so the growth is the near cache's.\n")
	if v := r.Visibility; v != nil {
		fmt.Fprintf(b, "- Write visibility: two rolegate replicas over the one Redis (both on core %d); %d "+
			"role changes (%s) through A's membership API; after each acknowledgement (p50 %s, p99 %s) "+
			"the harness asks A `%s` in a loop until the answer changes, then B; each time counts from the "+
			"acknowledgement and includes the asking decision's own round trip (B's includes A's too).\n",
			o.ServerCPU, v.Writes,
			v.Role, fmtDur(percentile(v.Ack, 50)), fmtDur(percentile(v.Ack, 99)), v.Probe)
	}
	b.WriteString("\n")
}

// machine describes the CPU, cores, memory, kernel and load at the start.
func machine() string {
	model, cores := "", 0
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			switch strings.TrimSpace(k) {
			case "model name":
				model = strings.TrimSpace(v)
			case "processor":
				cores++
			}
		}
		f.Close()
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	raw, _ := os.ReadFile("/proc/loadavg")
	load := strings.Fields(string(raw))
	return fmt.Sprintf("%s, %d cores, %s, Linux %s, load average %s at the start", model, cores,
		memTotal(), strings.TrimSpace(string(kernel)), strings.Join(load[:min(3, len(load))], " "))
}

func memTotal() string {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return "memory unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return fmtBytes(kb*1024) + " of memory"
		}
	}
	return "memory unknown"
}
