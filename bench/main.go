// Command bench measures rolegate beside OPA's own server (opa run --server) on the
// same policy bundle, memberships and requests, with a bare Gin endpoint as the
// ceiling of the HTTP path: decisions per second in a closed loop, tail latency in an
// open loop, allocations, memory, cold start, the near cache's heap and how soon a
// membership write is visible. Each server runs alone on one core, the load on the
// other. `make bench` runs it after the Go benchmarks; docs/performance.md explains
// the method. It prints one table and writes it to bench/results/latest.md, and
// exits non-zero when the servers disagree or the harness fails, never for a missed
// target, which it reports instead.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// options are the harness's flags.
type options struct {
	Root, Policy, Work, Out, GoBench string

	Rounds      int
	Duration    time.Duration
	Connections int
	// Rate is the open loop's rate; zero means half of OPA's closed-loop maximum.
	Rate   float64
	Writes int

	Users, Workspaces, Memberships, Mix int
	Seed                                uint64

	ServerCPU, LoadCPU int
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Root, "root", ".", "the repository's top folder")
	fs.StringVar(&o.Policy, "policy", "policies", "policy directory, built into the bundle both servers load")
	fs.StringVar(&o.Work, "work", "bench/results/work", "folder for generated files")
	fs.StringVar(&o.Out, "out", "bench/results/latest.md", "where the table is written")
	fs.StringVar(&o.GoBench, "gobench", "",
		"output of go test -bench to report; empty runs the decision benchmarks")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds per configuration and loop (medians are taken over them)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "length of each load run")
	fs.IntVar(&o.Connections, "connections", 16, "connections of the closed loop")
	fs.Float64Var(&o.Rate, "rate", 0, "open-loop requests/s; 0 is half of OPA's closed-loop decisions/s")
	fs.IntVar(&o.Writes, "writes", 300, "role changes of the write visibility measurement")
	fs.IntVar(&o.Memberships, "memberships", 10_000, "memberships in the data set (1000000 for the large run)")
	fs.IntVar(&o.Users, "users", 0, "users in the data set; 0 is memberships/10")
	fs.IntVar(&o.Workspaces, "workspaces", 0, "workspaces in the data set; 0 is memberships/100")
	fs.IntVar(&o.Mix, "mix", 4000, "distinct decisions in the request mix")
	fs.Uint64Var(&o.Seed, "seed", 7, "seed of the data set and the mix")
	fs.IntVar(&o.ServerCPU, "server-cpu", 0, "the core the server under test runs on")
	fs.IntVar(&o.LoadCPU, "load-cpu", 1, "the core the load generators and Redis run on")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	return o.normalize()
}

// normalize derives the unset sizes and makes the paths absolute.
func (o options) normalize() (options, error) {
	if o.Users == 0 {
		o.Users = max(2, o.Memberships/10)
	}
	if o.Workspaces == 0 {
		o.Workspaces = max(2, o.Memberships/100)
	}
	switch {
	case o.Rounds < 1:
		return o, fmt.Errorf("-rounds must be at least 1, got %d", o.Rounds)
	case o.Duration < time.Second:
		return o, fmt.Errorf("-duration must be at least 1s, got %v", o.Duration)
	case o.ServerCPU == o.LoadCPU:
		return o, fmt.Errorf("-server-cpu and -load-cpu must differ, both are %d", o.ServerCPU)
	case o.Mix < 2:
		return o, fmt.Errorf("-mix must be at least 2, got %d", o.Mix)
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return o, err
	}
	o.Root = root
	for _, p := range []*string{&o.Policy, &o.Work, &o.Out, &o.GoBench} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(root, *p)
		}
	}
	return o, nil
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return
	case err != nil:
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := run(context.Background(), opts, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
