package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
)

// harness holds what one run builds, starts and measures.
type harness struct {
	opts   options
	log    io.Writer
	bin    binaries
	files  files
	policy *engine.Policy
	ds     *dataset
	mix    *mix

	rolegateBodies, opaBodies [][]byte
	redis                     *process
	redisURL                  string
	servers                   []*server
	report                    *report
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "bench: "+format+"\n", args...)
}

// bodies returns the mix as the configuration takes it.
func (h *harness) bodies(s *server) [][]byte {
	if s.OPABody {
		return h.opaBodies
	}
	return h.rolegateBodies
}

// tools are the commands the harness runs, as command:Debian package.
var tools = map[string]string{"taskset": "util-linux", "wrk": "wrk", "redis-server": "redis-server"}

func checkTools() error {
	var errs []error
	for cmd, pkg := range tools {
		if _, err := exec.LookPath(cmd); err != nil {
			errs = append(errs, fmt.Errorf("%s is not installed: install the Debian package %s "+
				"(make bench installs it)", cmd, pkg))
		}
	}
	return errors.Join(errs...)
}

// run is one whole benchmark: prepare, check parity, measure, report.
func run(ctx context.Context, opts options, stdout, stderr io.Writer) error {
	if err := checkTools(); err != nil {
		return err
	}
	if err := pinSelf(opts.LoadCPU); err != nil {
		return err
	}
	h := &harness{opts: opts, log: stderr, report: newReport(opts)}
	defer h.close()
	steps := []struct {
		name string
		do   func(context.Context) error
	}{
		{"prepare", h.prepare},
		{"parity", h.checkParity},
		{"closed loop", h.closedLoop},
		{"open loop", h.openLoop},
		{"near cache heap", h.measureHeap},
		{"write visibility", h.measureVisibility},
		{"go benchmarks", h.goBenchmarks},
	}
	for _, step := range steps {
		start := time.Now()
		if err := step.do(ctx); err != nil {
			return fmt.Errorf("%s: %w", step.name, err)
		}
		h.logf("%s done in %v", step.name, time.Since(start).Round(100*time.Millisecond))
	}
	return h.publish(stdout)
}

func (h *harness) close() {
	h.redis.stop()
}

// prepare builds the programs, generates the data set and the mix, writes the inputs,
// and starts Redis with the memberships imported.
func (h *harness) prepare(ctx context.Context) error {
	var err error
	if err = os.MkdirAll(h.opts.Work, 0o755); err != nil {
		return err
	}
	if h.bin, err = build(h.opts.Root); err != nil {
		return err
	}
	if h.policy, err = compile(ctx, h.opts.Policy); err != nil {
		return err
	}
	if err = h.generate(); err != nil {
		return err
	}
	h.files, err = writeInputs(h.opts.Root, h.opts.Work, h.opts.Policy, h.bin.Rolegate, h.ds, h.mix)
	if err != nil {
		return err
	}
	if _, err = membership.LoadFile(h.files.Data, h.policy.Model().RoleTypes()); err != nil {
		return fmt.Errorf("the generated data file does not load: %w", err)
	}
	if err = h.startRedis(); err != nil {
		return err
	}
	h.servers, err = servers(h.bin, h.files, h.redisURL, h.opts.Work)
	return err
}

// generate builds the data set and the mix, and the mix's bodies.
func (h *harness) generate() error {
	o := h.opts
	s := shape{Users: o.Users, Workspaces: o.Workspaces, Memberships: o.Memberships, Seed: o.Seed}
	var err error
	if h.ds, err = generate(s, h.policy.Model()); err != nil {
		return err
	}
	decide := inProcess(h.policy, h.ds.Data)
	if h.mix, err = buildMix(h.ds, h.policy.Model(), decide, o.Mix, o.Seed); err != nil {
		return err
	}
	if h.rolegateBodies, err = h.mix.bodies(false); err != nil {
		return err
	}
	h.opaBodies, err = h.mix.bodies(true)
	h.logf("data set: %d users, %d workspaces, %d memberships; mix: %d decisions, %d allowed in process",
		s.Users, s.Workspaces, s.Memberships, len(h.mix.Requests), h.mix.Allowed)
	return err
}

func (h *harness) startRedis() error {
	var err error
	h.redis, h.redisURL, err = startRedis(h.opts.LoadCPU, filepath.Join(h.opts.Work, "redis"))
	if err != nil {
		return err
	}
	out, err := command(h.opts.Root, h.bin.Rolegate, "members", "import", "--redis", h.redisURL, h.files.Data)
	if err != nil {
		return err
	}
	h.logf("redis-server on core %d: %s", h.opts.LoadCPU, out)
	return nil
}

func (h *harness) checkParity(ctx context.Context) error {
	share, err := h.parity(ctx)
	if err != nil {
		return err
	}
	h.report.AllowedShare = share
	h.logf("OPA allowed %.1f %% of the mix", 100*share)
	return nil
}

// closedLoop runs the closed-loop rounds, every configuration once a round.
func (h *harness) closedLoop(ctx context.Context) error {
	for r := range h.opts.Rounds {
		for _, s := range rotate(h.servers, r) {
			if err := h.closedRound(ctx, s); err != nil {
				return err
			}
			last := s.Closed[len(s.Closed)-1]
			h.logf("round %d closed loop: %-34s %9.0f decisions/s", r+1, s.Name, last.Rate)
		}
	}
	return nil
}

// openLoop runs the open-loop rounds at the fixed rate: the -rate flag, or half of
// OPA's median closed-loop decisions/s.
func (h *harness) openLoop(ctx context.Context) error {
	rate := h.opts.Rate
	if rate == 0 {
		rate = medianOf(find(h.servers, keyOPA).Closed, func(c closedSample) float64 { return c.Rate }) / 2
	}
	h.report.Rate = rate
	for r := range h.opts.Rounds {
		for _, s := range rotate(h.servers, r) {
			if err := h.openRound(ctx, s, rate); err != nil {
				return err
			}
			last := s.Open[len(s.Open)-1]
			h.logf("round %d open loop at %.0f/s: %-30s p50 %v p99 %v", r+1, rate, s.Name, last.P50, last.P99)
		}
	}
	return nil
}

// pinSelf runs every thread of this process on cpu, with one P: the load generator's
// core. Threads started later inherit the affinity of the thread that starts them.
func pinSelf(cpu int) error {
	runtime.GOMAXPROCS(1)
	return setAffinity(cpu)
}
