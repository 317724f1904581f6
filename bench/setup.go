package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/rolegate/rolegate/internal/authz"
	"github.com/rolegate/rolegate/internal/engine"
	"github.com/rolegate/rolegate/internal/membership"
	"github.com/rolegate/rolegate/internal/membership/memory"
	"github.com/rolegate/rolegate/internal/policy"
	"github.com/rolegate/rolegate/test/opatest"
	"github.com/rolegate/rolegate/test/servetest"
)

// binaries are the programs the harness runs.
type binaries struct {
	Rolegate, OPA, Ceiling string
}

// files are what the harness writes to its work folder.
type files struct {
	PolicyBundle, Data, DataBundle string
	// RolegateBodies and OPABodies hold the mix, one request body a line.
	RolegateBodies, OPABodies string
	Script                    string
}

// build builds rolegate and the ceiling server into bench/bin, and the opa binary of
// the version go.mod pins (test/opatest's build, shared with the tests).
func build(root string) (binaries, error) {
	dir := filepath.Join(root, "bench", "bin")
	b := binaries{
		Rolegate: filepath.Join(dir, "rolegate"),
		OPA:      filepath.Join(dir, "opa"),
		Ceiling:  filepath.Join(dir, "ceiling"),
	}
	for bin, pkg := range map[string]string{b.Rolegate: "./cmd/rolegate", b.Ceiling: "./bench/ceiling"} {
		if _, err := command(root, "go", "build", "-o", bin, pkg); err != nil {
			return b, err
		}
	}
	if err := opatest.Ensure(b.OPA); err != nil {
		return b, fmt.Errorf("build opa: %w", err)
	}
	return b, nil
}

// command runs a program in dir and returns its standard output.
func command(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// compile compiles the policy directory in process, for the role model and for
// labelling the request mix.
func compile(ctx context.Context, dir string) (*engine.Policy, error) {
	b, err := policy.Load(dir)
	if err != nil {
		return nil, err
	}
	return engine.Compile(ctx, b)
}

// inProcess returns a decide function over the data set, with the embedded store.
func inProcess(p *engine.Policy, d *membership.Data) func(*authz.Request) bool {
	svc := authz.NewService(engine.New(p), memory.New(d))
	return func(req *authz.Request) bool { return svc.Decide(context.Background(), req).Allow }
}

// writeInputs writes the data file and the mix, and builds the policy bundle and the
// memberships' data bundle with the rolegate binary, as a user would.
func writeInputs(root, work, policyDir, rolegate string, ds *dataset, m *mix) (files, error) {
	f := files{
		PolicyBundle:   filepath.Join(work, "rolegate.tar.gz"),
		Data:           filepath.Join(work, "memberships.json"),
		DataBundle:     filepath.Join(work, "memberships.tar.gz"),
		RolegateBodies: filepath.Join(work, "rolegate.jsonl"),
		OPABodies:      filepath.Join(work, "opa.jsonl"),
		Script:         filepath.Join(work, "mix.lua"),
	}
	if err := writeData(f.Data, ds.Data); err != nil {
		return f, err
	}
	for path, wrap := range map[string]bool{f.RolegateBodies: false, f.OPABodies: true} {
		if err := writeBodies(path, m, wrap); err != nil {
			return f, err
		}
	}
	if _, err := command(root, rolegate, "bundle", "build", "-o", f.PolicyBundle, policyDir); err != nil {
		return f, err
	}
	_, err := command(root, rolegate, "bundle", "data", "--data", f.Data, "--policy", f.PolicyBundle,
		"-o", f.DataBundle)
	return f, err
}

func writeData(path string, d *membership.Data) error {
	var buf bytes.Buffer
	if err := d.Encode(&buf); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func writeBodies(path string, m *mix, wrapInput bool) error {
	bodies, err := m.bodies(wrapInput)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, b := range bodies {
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// startRedis starts a throwaway redis-server on a free port, pinned to cpu, persisting
// nothing, and waits until it answers.
func startRedis(cpu int, dir string) (*process, string, error) {
	addr, err := servetest.FreeAddr()
	if err != nil {
		return nil, "", err
	}
	_, port, _ := strings.Cut(addr, ":")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	p, err := launch("redis-server", cpu, []string{
		"redis-server", "--bind", "127.0.0.1", "--port", port, "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no",
	}, dir)
	if err != nil {
		return nil, "", err
	}
	client := goredis.NewClient(&goredis.Options{Addr: addr})
	defer client.Close()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := client.Ping(context.Background()).Err(); err == nil {
			return p, "redis://" + addr + "/0", nil
		} else if time.Now().After(deadline) {
			p.stop()
			return nil, "", p.failure(fmt.Errorf("no answer to PING: %w", err))
		}
	}
}
